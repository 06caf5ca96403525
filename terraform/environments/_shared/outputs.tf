# Shared by every environment root: the stack outputs (docs/development.md).

output "name_prefix" {
  description = "Prefix of every resource name."
  value       = module.stack.name_prefix
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

output "audit_queue_url" {
  description = "URL of the audit queue."
  value       = module.stack.audit_queue_url
}

output "audit_queue_arn" {
  description = "ARN of the audit queue."
  value       = module.stack.audit_queue_arn
}

output "audit_dlq_url" {
  description = "URL of the audit DLQ."
  value       = module.stack.audit_dlq_url
}

output "audit_dlq_arn" {
  description = "ARN of the audit DLQ."
  value       = module.stack.audit_dlq_arn
}

output "audit_table_name" {
  description = "Name of the AuditMessages table."
  value       = module.stack.audit_table_name
}

output "sms_queue_url" {
  description = "URL of the SMS queue."
  value       = module.stack.sms_queue_url
}

output "sms_queue_arn" {
  description = "ARN of the SMS queue."
  value       = module.stack.sms_queue_arn
}

output "sms_dlq_url" {
  description = "URL of the SMS DLQ."
  value       = module.stack.sms_dlq_url
}

output "sms_dlq_arn" {
  description = "ARN of the SMS DLQ."
  value       = module.stack.sms_dlq_arn
}

output "sms_idempotency_table_name" {
  description = "Name of the SMS idempotency table."
  value       = module.stack.sms_idempotency_table_name
}

output "alarm_dedupe_table_name" {
  description = "Name of the table where the DLQ alarm handler records the alarm state changes it reported."
  value       = module.stack.alarm_dedupe_table_name
}

output "alarm_topic_arn" {
  description = "ARN of the topic CloudWatch alarms publish to (the DLQ alarm handler subscribes to it)."
  value       = module.stack.alarm_topic_arn
}

output "notifications_topic_arn" {
  description = "ARN of the topic the DLQ alarm handler reports to."
  value       = module.stack.notifications_topic_arn
}

output "function_names" {
  description = "Deployed function name per function folder."
  value       = module.stack.function_names
}

output "function_arns" {
  description = "Function ARN per function folder."
  value       = module.stack.function_arns
}

output "function_role_arns" {
  description = "Execution role ARN per function folder."
  value       = module.stack.function_role_arns
}

output "function_role_names" {
  description = "Execution role name per function folder."
  value       = module.stack.function_role_names
}

output "function_log_group_names" {
  description = "Log group name per function folder."
  value       = module.stack.function_log_group_names
}

output "queue_consumers" {
  description = "Function folder consuming each queue (audit, sms)."
  value       = module.stack.queue_consumers
}

output "queue_max_message_size" {
  description = "Largest message body the work queues accept (bytes): the producers' size guard."
  value       = module.stack.queue_max_message_size
}

output "event_source_mapping_uuids" {
  description = "Event source mapping UUID per queue (audit, sms)."
  value       = module.stack.event_source_mapping_uuids
}

output "dlq_alarm_names" {
  description = "Name of the DLQ-not-empty alarm per queue."
  value       = module.stack.dlq_alarm_names
}

output "oldest_message_age_alarm_names" {
  description = "Name of the oldest-message-age alarm per queue."
  value       = module.stack.oldest_message_age_alarm_names
}

output "twilio_secret_arn" {
  description = "Secret for the Twilio credentials (value set outside Terraform)."
  value       = module.stack.twilio_secret_arn
}

output "webhook_secret_arn" {
  description = "Secret for the DLQ webhook URL (value set outside Terraform)."
  value       = module.stack.webhook_secret_arn
}

output "topics_kms_key_arn" {
  description = "KMS key encrypting the alarm and notifications topics."
  value       = module.stack.topics_kms_key_arn
}

output "dashboard_name" {
  description = "Name of the CloudWatch dashboard."
  value       = module.stack.dashboard_name
}

output "sms_provider" {
  description = "SMS provider the sms-sender is configured for."
  value       = module.stack.sms_provider
}

output "queue_retry_budget_seconds" {
  description = "Per queue: seconds of transient failures before a record is dead-lettered."
  value       = module.stack.queue_retry_budget_seconds
}

output "sms_idempotency_retention_seconds" {
  description = "How long sms-sender keeps an idempotency record (its IDEMPOTENCY_RETENTION)."
  value       = module.stack.sms_idempotency_retention_seconds
}

output "alarm_dedupe_retention_seconds" {
  description = "How long dlq-alarm-handler keeps the record of an alarm state change it reported (its IDEMPOTENCY_RETENTION)."
  value       = module.stack.alarm_dedupe_retention_seconds
}

output "alarm_handler_failures_queue_url" {
  description = "URL of the DLQ alarm handler's on-failure destination: alarm notifications it could not send."
  value       = module.stack.alarm_handler_failures_queue_url
}

output "alarm_handler_failures_queue_arn" {
  description = "ARN of the DLQ alarm handler's on-failure destination."
  value       = module.stack.alarm_handler_failures_queue_arn
}

output "alarm_handler_failures_alarm_name" {
  description = "Name of the alarm on messages in the alarm handler's failures queue."
  value       = module.stack.alarm_handler_failures_alarm_name
}

output "alarm_email_topic_arn" {
  description = "ARN of the topic that mails the alarm e-mail subscribers directly (the failures-queue alarm's target)."
  value       = module.stack.alarm_email_topic_arn
}

output "permissions_boundary_arn" {
  description = "Permissions boundary of every role the stack creates (null: none)."
  value       = module.stack.permissions_boundary_arn
}
