# A Go function (provided.al2023, arm64) with its own least-privilege role,
# log group and X-Ray tracing. Build the zip first: make build (dist/<name>.zip).
provider "aws" {}

variable "package_path" {
  description = "The function's zip, as make build writes it."
  type        = string
  default     = "../../../../../dist/audit-receiver.zip"
}

module "audit_table" {
  source = "../../../table"

  name      = "example-AuditMessages"
  hash_key  = { name = "messageId", type = "S" }
  range_key = { name = "auditTime", type = "S" }
}

module "audit_receiver" {
  source = "../.."

  name         = "example-audit-receiver"
  package_path = var.package_path
  timeout      = 10
  environment_variables = {
    AUDIT_TABLE_NAME = module.audit_table.table_name
  }
  # Exactly what the code calls, on exact ARNs.
  policy_statements = [{
    sid       = "PutAuditItems"
    actions   = ["dynamodb:PutItem", "dynamodb:GetItem"]
    resources = [module.audit_table.table_arn]
  }]
}

output "function_name" {
  description = "The deployed function."
  value       = module.audit_receiver.function_name
}

output "role_name" {
  description = "Its execution role (attach an SQS trigger to it with the sqs-trigger module)."
  value       = module.audit_receiver.role_name
}
