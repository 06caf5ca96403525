output "queue_name" {
  description = "Name of the work queue."
  value       = aws_sqs_queue.this.name
}

output "queue_arn" {
  description = "ARN of the work queue."
  value       = aws_sqs_queue.this.arn
}

output "queue_url" {
  description = "URL of the work queue."
  value       = aws_sqs_queue.this.url
}

output "queue_visibility_timeout_seconds" {
  description = "Visibility timeout of the work queue (input of the sqs-trigger module's 6x check)."
  value       = aws_sqs_queue.this.visibility_timeout_seconds
}

output "message_retention_seconds" {
  description = "How long the work queue keeps a message (input of the consumers' idempotency retention)."
  value       = var.message_retention_seconds
}

output "dlq_message_retention_seconds" {
  description = "How long the DLQ keeps a message, counted from its first enqueue into the work queue (input of the consumers' idempotency retention)."
  value       = var.dlq_message_retention_seconds
}

output "queue_max_message_size" {
  description = "Largest message body both queues accept, in bytes: the producer's size guard."
  value       = aws_sqs_queue.this.max_message_size
}

output "dlq_name" {
  description = "Name of the dead-letter queue."
  value       = aws_sqs_queue.dlq.name
}

output "dlq_arn" {
  description = "ARN of the dead-letter queue."
  value       = aws_sqs_queue.dlq.arn
}

output "dlq_url" {
  description = "URL of the dead-letter queue."
  value       = aws_sqs_queue.dlq.url
}

output "max_receive_count" {
  description = "Receives after which a message moves to the DLQ."
  value       = var.max_receive_count
}

output "kms_key_arn" {
  description = "KMS key encrypting both queues, or null with SQS-managed SSE."
  value       = var.kms_key_arn
}

output "dlq_alarm_name" {
  description = "Name of the alarm on messages in the DLQ."
  value       = aws_cloudwatch_metric_alarm.dlq_not_empty.alarm_name
}

output "dlq_alarm_arn" {
  description = "ARN of the alarm on messages in the DLQ."
  value       = aws_cloudwatch_metric_alarm.dlq_not_empty.arn
}

output "oldest_message_age_alarm_name" {
  description = "Name of the alarm on the age of the work queue's oldest message."
  value       = aws_cloudwatch_metric_alarm.oldest_message_age.alarm_name
}

output "oldest_message_age_alarm_arn" {
  description = "ARN of the alarm on the age of the work queue's oldest message."
  value       = aws_cloudwatch_metric_alarm.oldest_message_age.arn
}
