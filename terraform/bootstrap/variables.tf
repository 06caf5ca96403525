variable "github_repository" {
  type        = string
  description = "The GitHub repository allowed to deploy, as owner/name exactly as GitHub spells it (the OIDC subject is case-sensitive)."

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$", var.github_repository))
    error_message = "github_repository must be owner/name, e.g. my-org/offload."
  }
}

variable "region" {
  type        = string
  description = "Region of the state bucket and of the environments' resources (the roles are scoped to it). Null: the standard AWS_REGION environment variable."
  default     = null
}

variable "environments" {
  type = map(object({
    name_prefix = string
    plan_role   = optional(bool, true)
    # Refs whose runs of .github/workflows/deploy.yml may assume the deploy
    # role (and the plan role, unless plan_pull_requests): the OIDC trust and
    # the GitHub environment's deployment branch/tag policy both use them.
    deploy_refs = optional(list(string), ["refs/heads/main"])
    # The plan role also trusts pull request runs (refs/pull/<n>/merge).
    plan_pull_requests = optional(bool, false)
    # GitHub users (login) or teams (org/team-slug) who must approve every
    # job in the environment <env>; none: no required reviewers.
    reviewers = optional(list(string), [])
  }))
  description = <<-EOT
    Deployable environments, keyed by name (the GitHub environment, the
    ENV of `make plan/apply`, the state key offload/<name>.tfstate).
    name_prefix is the environment's resource name prefix (its tfvars'
    name_prefix): its deploy role may manage only resources named
    <name_prefix>-* (secrets <name_prefix>/*). plan_role adds a read-only
    role for the <name>-plan GitHub environment (pull request and pre-apply plans).
  EOT
  default = {
    dev     = { name_prefix = "offload-dev", plan_pull_requests = true }
    staging = { name_prefix = "offload-staging", deploy_refs = ["refs/heads/main", "refs/tags/v*"] }
    prod    = { name_prefix = "offload-prod", deploy_refs = ["refs/heads/main", "refs/tags/v*"] }
  }

  validation {
    condition     = alltrue([for k, e in var.environments : can(regex("^[a-z][a-z0-9-]{1,15}$", k)) && can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", e.name_prefix))])
    error_message = "Environment names must be 2-16 lowercase letters, digits and '-'; name prefixes 3-32 lowercase letters, digits and '-' (the stack's own rule)."
  }

  validation {
    condition = alltrue(flatten([
      for k, e in var.environments : [
        for r in e.deploy_refs : can(regex("^refs/(heads|tags)/[A-Za-z0-9._/*-]+$", r))
      ]
    ]))
    error_message = "deploy_refs must be refs/heads/<branch> or refs/tags/<pattern> (e.g. refs/tags/v*)."
  }

  validation {
    condition = alltrue(flatten([
      for k, e in var.environments : [
        for r in e.reviewers : can(regex("^[A-Za-z0-9-]+(/[A-Za-z0-9._-]+)?$", r))
      ]
    ]))
    error_message = "reviewers are GitHub logins (alice) or teams (my-org/release-managers)."
  }

  # "offload" and "offload-dev" would let the first environment's role manage
  # the second one's resources (offload-* matches offload-dev-*).
  validation {
    condition = alltrue(flatten([
      for a, ea in var.environments : [
        for b, eb in var.environments : a == b || !startswith("${eb.name_prefix}-", "${ea.name_prefix}-")
      ]
    ]))
    error_message = "No environment's name_prefix may be a '-'-separated prefix of another's: each role's <name_prefix>-* must match only its own environment."
  }
}

variable "deploy_workflow" {
  type        = string
  description = "Path of the only workflow whose jobs may assume the roles (the job_workflow_ref in the OIDC subject)."
  default     = ".github/workflows/deploy.yml"
}

variable "role_name_prefix" {
  type        = string
  description = "Prefix of the GitHub roles: <prefix>-deploy-<env> and <prefix>-plan-<env>. Must not start with any environment's name_prefix followed by '-' (a deploy role must not be able to edit itself)."
  default     = "offload-github"

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,40}$", var.role_name_prefix))
    error_message = "role_name_prefix must be 1-40 characters valid in an IAM role name."
  }
}

variable "state_bucket_name" {
  type        = string
  description = "Name of the Terraform state bucket. Null: offload-tfstate-<account id>-<region> (bucket names are global)."
  default     = null
}

variable "state_key_prefix" {
  type        = string
  description = "Folder of the environments' state objects in the bucket: the backends use key = \"<prefix>/<env>.tfstate\"."
  default     = "offload"
}

variable "state_bucket_force_destroy" {
  type        = bool
  description = "Let `terraform destroy` delete the state bucket with every state version in it. Keep false; set true only to tear the whole setup down."
  default     = false
}

variable "noncurrent_state_retention_days" {
  type        = number
  description = "Days old versions of a state file are kept (versioning is the undo of a bad apply)."
  default     = 90

  validation {
    condition     = var.noncurrent_state_retention_days >= 1
    error_message = "noncurrent_state_retention_days must be at least 1."
  }
}

variable "create_oidc_provider" {
  type        = bool
  description = "Create the account's GitHub OIDC provider. False when the account already has one for token.actions.githubusercontent.com (there can be only one per URL): it is then looked up."
  default     = true
}

variable "max_session_duration" {
  type        = number
  description = "Longest session (seconds) the roles allow; a deploy job (apply + Terratest) must fit in it."
  default     = 3600

  validation {
    condition     = var.max_session_duration >= 3600 && var.max_session_duration <= 43200
    error_message = "max_session_duration must be between 3600 and 43200 seconds."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags for every resource the bootstrap creates."
  default     = {}
}
