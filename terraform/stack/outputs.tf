# The contract of every environment (docs/development.md, "Local environment
# outputs"), then extras for operators and tests.

output "name_prefix" {
  description = "Prefix of every resource name."
  value       = var.name_prefix
}

output "environment" {
  description = "Environment name."
  value       = var.environment
}

output "audit_queue_url" {
  description = "URL of the audit queue."
  value       = module.queue["audit"].queue_url
}

output "audit_queue_arn" {
  description = "ARN of the audit queue."
  value       = module.queue["audit"].queue_arn
}

output "audit_dlq_url" {
  description = "URL of the audit DLQ."
  value       = module.queue["audit"].dlq_url
}

output "audit_dlq_arn" {
  description = "ARN of the audit DLQ."
  value       = module.queue["audit"].dlq_arn
}

output "audit_table_name" {
  description = "Name of the AuditMessages table."
  value       = module.audit_table.table_name
}

output "sms_queue_url" {
  description = "URL of the SMS queue."
  value       = module.queue["sms"].queue_url
}

output "sms_queue_arn" {
  description = "ARN of the SMS queue."
  value       = module.queue["sms"].queue_arn
}

output "sms_dlq_url" {
  description = "URL of the SMS DLQ."
  value       = module.queue["sms"].dlq_url
}

output "sms_dlq_arn" {
  description = "ARN of the SMS DLQ."
  value       = module.queue["sms"].dlq_arn
}

output "sms_idempotency_table_name" {
  description = "Name of the SMS idempotency table."
  value       = module.idempotency_table["sms-sender"].table_name
}

output "alarm_dedupe_table_name" {
  description = "Name of the table where the DLQ alarm handler records the alarm state changes it reported."
  value       = module.idempotency_table["dlq-alarm-handler"].table_name
}

output "alarm_topic_arn" {
  description = "ARN of the topic CloudWatch alarms publish to (the DLQ alarm handler subscribes to it)."
  value       = module.alarm_topic.topic_arn
}

output "notifications_topic_arn" {
  description = "ARN of the topic the DLQ alarm handler reports to."
  value       = module.notifications_topic.topic_arn
}

output "function_names" {
  description = "Deployed function name per function folder."
  value       = { for f, m in module.function : f => m.function_name }
}

# Extras.

output "function_arns" {
  description = "Function ARN per function folder."
  value       = { for f, m in module.function : f => m.function_arn }
}

output "function_role_arns" {
  description = "Execution role ARN per function folder."
  value       = { for f, m in module.function : f => m.role_arn }
}

output "function_role_names" {
  description = "Execution role name per function folder."
  value       = { for f, m in module.function : f => m.role_name }
}

output "function_log_group_names" {
  description = "Log group name per function folder."
  value       = { for f, m in module.function : f => m.log_group_name }
}

output "queue_consumers" {
  description = "Function folder consuming each queue (audit, sms)."
  value       = { for q, d in local.queues : q => d.consumer }
}

output "queue_max_message_size" {
  description = "Largest message body the work queues accept (bytes): the producers' size guard."
  value       = { for q, m in module.queue : q => m.queue_max_message_size }
}

output "event_source_mapping_uuids" {
  description = "Event source mapping UUID per queue (audit, sms)."
  value       = { for q, m in module.trigger : q => m.event_source_mapping_uuid }
}

output "dlq_alarm_names" {
  description = "Name of the DLQ-not-empty alarm per queue."
  value       = { for q, m in module.queue : q => m.dlq_alarm_name }
}

output "oldest_message_age_alarm_names" {
  description = "Name of the oldest-message-age alarm per queue."
  value       = { for q, m in module.queue : q => m.oldest_message_age_alarm_name }
}

output "twilio_secret_arn" {
  description = "Secret for the Twilio credentials (value set outside Terraform)."
  value       = module.twilio_secret.secret_arn
}

output "webhook_secret_arn" {
  description = "Secret for the DLQ webhook URL (value set outside Terraform)."
  value       = module.webhook_secret.secret_arn
}

output "topics_kms_key_arn" {
  description = "KMS key encrypting the alarm and notifications topics."
  value       = aws_kms_key.topics.arn
}

output "dashboard_name" {
  description = "Name of the CloudWatch dashboard."
  value       = aws_cloudwatch_dashboard.this.dashboard_name
}

output "sms_provider" {
  description = "SMS provider the sms-sender is configured for."
  value       = var.sms_provider
}

output "queue_retry_budget_seconds" {
  description = "Per queue: seconds a record that fails transiently on every receive stays on its queue before SQS dead-letters it (backoff summed over max_receive_count receives; README.md, \"Retry budget\")."
  value       = local.retry_budget_seconds
}

output "sms_idempotency_retention_seconds" {
  description = "How long sms-sender keeps an idempotency record (its IDEMPOTENCY_RETENTION)."
  value       = local.retention_seconds.sms

  precondition {
    condition     = local.retention_seconds.sms >= local.minimum_retention_seconds.sms
    error_message = "sms_idempotency_retention_seconds (${local.retention_seconds.sms} s) is shorter than an SMS request can still be delivered: the SMS queue's retention + its DLQ's retention + the visibility timeout = ${local.minimum_retention_seconds.sms} s. A redelivery after the record expired would send the text again; leave it null or set at least ${local.minimum_retention_seconds.sms}."
  }
}

output "alarm_dedupe_retention_seconds" {
  description = "How long dlq-alarm-handler keeps the record of an alarm state change it reported (its IDEMPOTENCY_RETENTION)."
  value       = local.retention_seconds.alarm

  precondition {
    condition     = local.retention_seconds.alarm >= local.minimum_retention_seconds.alarm
    error_message = "alarm_dedupe_retention_seconds (${local.retention_seconds.alarm} s) is shorter than an alarm event can still be delivered: Lambda's maximum event age + the failures queue's retention + the handler's timeout = ${local.minimum_retention_seconds.alarm} s. A late retry would report the alarm again; leave it null or set at least ${local.minimum_retention_seconds.alarm}."
  }
}

output "alarm_handler_failures_queue_url" {
  description = "URL of the DLQ alarm handler's on-failure destination: alarm notifications it could not send."
  value       = aws_sqs_queue.alarm_handler_failures.url
}

output "alarm_handler_failures_queue_arn" {
  description = "ARN of the DLQ alarm handler's on-failure destination."
  value       = aws_sqs_queue.alarm_handler_failures.arn
}

output "alarm_handler_failures_alarm_name" {
  description = "Name of the alarm on messages in the alarm handler's failures queue."
  value       = aws_cloudwatch_metric_alarm.alarm_handler_failures.alarm_name
}

output "alarm_email_topic_arn" {
  description = "ARN of the topic that mails the alarm e-mail subscribers directly (the failures-queue alarm publishes here, not to the alarm topic the handler subscribes to)."
  value       = module.alarm_email_topic.topic_arn
}

output "permissions_boundary_arn" {
  description = "Permissions boundary of every role the stack creates (null: none)."
  value       = local.permissions_boundary_arn
}
