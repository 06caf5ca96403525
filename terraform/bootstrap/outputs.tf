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

output "github_setup_commands" {
  description = "GitHub CLI commands that create the environments and set the variables the workflows read (run them in a clone of the repository, with gh authenticated)."
  value = join("\n", concat(
    [
      "gh variable set AWS_REGION --body '${local.region}'",
      "gh variable set TF_STATE_BUCKET --body '${aws_s3_bucket.state.bucket}'",
    ],
    flatten([
      for key, r in local.roles : [
        "gh api --method PUT 'repos/${var.github_repository}/environments/${r.kind == "plan" ? "${r.env}-plan" : r.env}' >/dev/null",
        "gh variable set ${r.kind == "plan" ? "AWS_PLAN_ROLE_ARN" : "AWS_DEPLOY_ROLE_ARN"} --env '${r.kind == "plan" ? "${r.env}-plan" : r.env}' --body '${aws_iam_role.github[key].arn}'",
      ]
    ]),
  ))
}
