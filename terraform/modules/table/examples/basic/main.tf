# The article's AuditMessages table: messageId + auditTime, encrypted,
# point-in-time recovery and deletion protection on (the module's defaults).
provider "aws" {}

module "audit_table" {
  source = "../.."

  name      = "example-AuditMessages"
  hash_key  = { name = "messageId", type = "S" }
  range_key = { name = "auditTime", type = "S" }
}

# An idempotency table as pkg/idempotency expects it: id (S) with TTL on expires_at.
module "idempotency_table" {
  source = "../.."

  name          = "example-idempotency"
  hash_key      = { name = "id", type = "S" }
  ttl_attribute = "expires_at"
}

output "audit_table_name" {
  description = "AUDIT_TABLE_NAME for audit-receiver."
  value       = module.audit_table.table_name
}

output "idempotency_table_name" {
  description = "IDEMPOTENCY_TABLE_NAME for sms-sender."
  value       = module.idempotency_table.table_name
}
