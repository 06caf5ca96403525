# A work queue with its dead-letter queue, encrypted with a key of its own,
# alarmed when anything reaches the DLQ or the oldest message gets old.
#
#   terraform init && terraform plan
provider "aws" {}

resource "aws_kms_key" "queues" {
  description         = "example queue encryption"
  enable_key_rotation = true
}

resource "aws_sns_topic" "alarms" {
  name              = "example-alarms"
  kms_master_key_id = aws_kms_key.queues.arn
}

module "orders_queue" {
  source = "../.."

  name                       = "example-orders"
  visibility_timeout_seconds = 60 # at least 6x the consuming function's timeout (10 s)
  max_receive_count          = 5
  kms_key_arn                = aws_kms_key.queues.arn
  alarm_actions              = [aws_sns_topic.alarms.arn]
  ok_actions                 = [aws_sns_topic.alarms.arn]
}

output "queue_url" {
  description = "Where producers send."
  value       = module.orders_queue.queue_url
}

output "dlq_url" {
  description = "Where messages end up after max_receive_count failed deliveries."
  value       = module.orders_queue.dlq_url
}
