# A Secrets Manager secret without a value. Terraform creates the container
# and its access control; the value is set outside Terraform
# (aws secretsmanager put-secret-value), so it never appears in variables,
# tfvars, plans or state.

resource "aws_secretsmanager_secret" "this" {
  name                    = var.name
  description             = var.description
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = var.recovery_window_in_days

  tags = var.tags
}
