# Written by hand; linked by every environment root (local, dev, staging,
# prod), like the generated variables.tf, stack.tf and outputs.tf beside it
# (scripts/tfshared writes those from terraform/stack: `make tfshared`). Here
# is only what the roots add to the stack: the provider, its variables, the
# packages' default location and the guards of the shared environments.

# The same provider block in every environment: no endpoints, no flags. The
# local environment reaches the emulator through AWS_ENDPOINT_URL alone.
provider "aws" {
  region              = var.region
  allowed_account_ids = var.allowed_account_ids
}

variable "region" {
  type        = string
  description = "AWS region. Null: the standard AWS_REGION environment variable (the local environment uses that, so the emulator, Terraform and the SDKs agree)."
  default     = null
}

variable "allowed_account_ids" {
  type        = list(string)
  description = "Accounts Terraform may change: a plan with credentials of any other account fails before touching it. Required in staging and prod (root.tf refuses the plan without it); dev may omit it; null: no check."
  default     = null

  validation {
    condition     = var.allowed_account_ids == null || alltrue([for a in coalesce(var.allowed_account_ids, []) : can(regex("^[0-9]{12}$", a))])
    error_message = "allowed_account_ids must be 12-digit AWS account ids."
  }
}

variable "dist_dir" {
  type        = string
  description = "Directory holding the function packages <folder>.zip (make build writes dist/ at the repository root)."
  default     = "../../../dist"
}

output "environment" {
  description = "Environment name."
  value       = module.stack.environment

  # The guards of the shared environments, checked at plan time.
  precondition {
    condition     = !contains(["staging", "prod"], local.environment) || length(coalesce(var.allowed_account_ids, [])) > 0
    error_message = "allowed_account_ids is required in ${local.environment}: set it in terraform/environments/${local.environment}/terraform.tfvars to the ${local.environment} account id, so that a plan or apply with another account's credentials fails before it touches anything."
  }

  precondition {
    condition     = local.environment != "prod" || length(var.alarm_email_addresses) > 0
    error_message = "alarm_email_addresses needs at least one address in prod: without one, an alarm the DLQ alarm handler cannot report (its failures queue) reaches nobody. Set it in terraform/environments/prod/terraform.tfvars."
  }
}
