output "state_bucket" {
  description = "The Terraform state bucket: the TF_STATE_BUCKET variable of the GitHub repository (and of your shell for make plan/apply)."
  value       = aws_s3_bucket.state.bucket
}

output "region" {
  description = "Region of the bucket and the roles' resources: the AWS_REGION variable."
  value       = local.region
}

output "oidc_provider_arn" {
  description = "ARN of the GitHub Actions OIDC identity provider."
  value       = local.github_oidc_arn
}

output "deploy_role_arns" {
  description = "Deploy role ARN per environment: AWS_DEPLOY_ROLE_ARN of the GitHub environment <env>."
  value       = { for env in keys(var.environments) : env => aws_iam_role.github["deploy-${env}"].arn }
}

output "plan_role_arns" {
  description = "Read-only plan role ARN per environment: AWS_PLAN_ROLE_ARN of the GitHub environment <env>-plan."
  value       = { for key, r in local.roles : r.env => aws_iam_role.github[key].arn if r.kind == "plan" }
}

output "boundary_policy_arns" {
  description = "Permissions boundary per environment (<name_prefix>-boundary): the stack's permissions_boundary_name is its name."
  value       = { for env in keys(var.environments) : env => aws_iam_policy.boundary[env].arn }
}

# The GitHub side of the trust, idempotent (every command can run again):
#  1. the repository's OIDC subject template gets job_workflow_ref, the claim
#     the roles' trust matches;
#  2. every environment is created WITH its protection: deployment refs =
#     its deploy_refs (branch and tag policies; plan environments that plan
#     pull requests stay open), required reviewers with self-review prevented
#     where reviewers are listed;
#  3. the variables the workflows read.
locals {
  repo_api = "repos/${var.github_repository}"

  # gh environment setup per GitHub environment name.
  github_environments = merge(
    { for env, e in var.environments : env => { refs = e.deploy_refs, reviewers = e.reviewers, open = false } },
    { for env, e in var.environments : "${env}-plan" => { refs = e.deploy_refs, reviewers = [], open = e.plan_pull_requests } if e.plan_role },
  )

  reviewer_json = {
    for name, g in local.github_environments : name => join(",", [
      for r in g.reviewers : length(split("/", r)) == 2 ?
      "{\"type\":\"Team\",\"id\":$(gh api 'orgs/${split("/", r)[0]}/teams/${split("/", r)[1]}' --jq .id)}" :
      "{\"type\":\"User\",\"id\":$(gh api 'users/${r}' --jq .id)}"
    ])
  }

  environment_commands = flatten([
    for name, g in local.github_environments : concat(
      [
        "gh api --method PUT '${local.repo_api}/environments/${name}' --input - >/dev/null <<EOF",
        "{\"wait_timer\":0,\"prevent_self_review\":${length(g.reviewers) > 0},\"reviewers\":[${local.reviewer_json[name]}],\"deployment_branch_policy\":${g.open ? "null" : "{\"protected_branches\":false,\"custom_branch_policies\":true}"}}",
        "EOF",
      ],
      g.open ? [] : [
        for ref in g.refs :
        "gh api '${local.repo_api}/environments/${name}/deployment-branch-policies' --jq '.branch_policies[] | \"\\(.type):\\(.name)\"' | grep -qxF '${startswith(ref, "refs/tags/") ? "tag" : "branch"}:${trimprefix(trimprefix(ref, "refs/heads/"), "refs/tags/")}' || gh api --method POST '${local.repo_api}/environments/${name}/deployment-branch-policies' -f name='${trimprefix(trimprefix(ref, "refs/heads/"), "refs/tags/")}' -f type=${startswith(ref, "refs/tags/") ? "tag" : "branch"} >/dev/null"
      ],
    )
  ])
}

output "github_setup_commands" {
  description = "GitHub CLI commands (bash, in a clone of the repository, gh authenticated as an admin) that set the OIDC subject template, create the environments with their protection and set the variables the workflows read. Idempotent."
  value = join("\n", concat(
    [
      "set -euo pipefail",
      "gh api --method PUT '${local.repo_api}/actions/oidc/customization/sub' --input - >/dev/null <<'EOF'",
      "{\"use_default\":false,\"include_claim_keys\":[\"repo\",\"context\",\"job_workflow_ref\"]}",
      "EOF",
    ],
    local.environment_commands,
    [
      "gh variable set AWS_REGION --body '${local.region}'",
      "gh variable set TF_STATE_BUCKET --body '${aws_s3_bucket.state.bucket}'",
    ],
    [
      for key, r in local.roles :
      "gh variable set ${r.kind == "plan" ? "AWS_PLAN_ROLE_ARN" : "AWS_DEPLOY_ROLE_ARN"} --env '${r.kind == "plan" ? "${r.env}-plan" : r.env}' --body '${aws_iam_role.github[key].arn}'"
    ],
  ))
}
