# A standard SQS work queue with its dead-letter queue, encryption, a TLS-only
# queue policy on both, and the two alarms every offloaded queue needs.
#
# Both queue ARNs are derived from their names so that each queue's policy and
# the DLQ's redrive-allow policy can be set inline, in the CreateQueue call:
# every separate SQS policy resource costs another attribute-propagation wait
# in the provider (about 25 s against the emulator), and inline attributes
# keep the chain to DLQ -> queue.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  dlq_name   = coalesce(var.dlq_name, "${var.name}-dlq")
  arn_prefix = "arn:${data.aws_partition.current.partition}:sqs:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}"
  queue_arn  = "${local.arn_prefix}:${var.name}"
  dlq_arn    = "${local.arn_prefix}:${local.dlq_name}"

  # SSE: a customer managed key when given, SQS-managed keys otherwise.
  sqs_managed_sse = var.kms_key_arn == null
  kms_reuse       = var.kms_key_arn == null ? null : var.kms_data_key_reuse_period_seconds
}

# Deny every request that does not use TLS. Queue policies are resource
# policies: identity policies still decide who may do what.
module "tls_only" {
  source = "../tls-only-policy"
  for_each = {
    queue = local.queue_arn
    dlq   = local.dlq_arn
  }

  policy_id = "${each.key}-tls-only"
  actions   = ["sqs:*"]
  resources = [each.value]
}

resource "aws_sqs_queue" "dlq" {
  name                       = local.dlq_name
  message_retention_seconds  = var.dlq_message_retention_seconds
  receive_wait_time_seconds  = var.receive_wait_time_seconds
  max_message_size           = var.max_message_size
  visibility_timeout_seconds = var.visibility_timeout_seconds

  sqs_managed_sse_enabled           = local.sqs_managed_sse
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = local.kms_reuse

  policy = module.tls_only["dlq"].json

  # Only the work queue may use this DLQ.
  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [local.queue_arn]
  })

  tags = var.tags
}

resource "aws_sqs_queue" "this" {
  name                       = var.name
  visibility_timeout_seconds = var.visibility_timeout_seconds
  message_retention_seconds  = var.message_retention_seconds
  receive_wait_time_seconds  = var.receive_wait_time_seconds
  max_message_size           = var.max_message_size

  sqs_managed_sse_enabled           = local.sqs_managed_sse
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = local.kms_reuse

  policy = module.tls_only["queue"].json

  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dlq.arn
    maxReceiveCount     = var.max_receive_count
  })

  tags = var.tags
}

# Any message in the DLQ is an incident: someone must look at it.
resource "aws_cloudwatch_metric_alarm" "dlq_not_empty" {
  alarm_name        = "${local.dlq_name}-not-empty"
  alarm_description = "Messages in DLQ ${local.dlq_name} (source queue ${var.name}): they failed ${var.max_receive_count} receives or were dead-lettered as permanent failures."

  # Visible + in flight, not visible alone: the alarm handler samples the DLQ
  # by receiving its messages, which hides them while it reads them. SQS
  # publishes one datapoint a minute; one landing during a sample would read
  # 0 visible and send a false "recovered" (then ALARM again a minute later).
  metric_query {
    id          = "messages"
    expression  = "visible + in_flight"
    label       = "Messages in ${local.dlq_name} (visible and in flight)"
    return_data = true
  }
  metric_query {
    id = "visible"
    metric {
      namespace   = "AWS/SQS"
      metric_name = "ApproximateNumberOfMessagesVisible"
      dimensions = {
        QueueName = aws_sqs_queue.dlq.name
      }
      stat   = "Maximum"
      period = var.alarm_period_seconds
    }
  }
  metric_query {
    id = "in_flight"
    metric {
      namespace   = "AWS/SQS"
      metric_name = "ApproximateNumberOfMessagesNotVisible"
      dimensions = {
        QueueName = aws_sqs_queue.dlq.name
      }
      stat   = "Maximum"
      period = var.alarm_period_seconds
    }
  }
  evaluation_periods  = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = 1
  treat_missing_data  = "notBreaching"

  alarm_actions = var.alarm_actions
  ok_actions    = var.ok_actions

  tags = var.tags
}

# The work queue falls behind: consumers are failing, throttled or too few.
resource "aws_cloudwatch_metric_alarm" "oldest_message_age" {
  alarm_name        = "${var.name}-oldest-message-age"
  alarm_description = "The oldest message in ${var.name} is older than ${var.oldest_message_age_threshold_seconds} s."

  namespace   = "AWS/SQS"
  metric_name = "ApproximateAgeOfOldestMessage"
  dimensions = {
    QueueName = aws_sqs_queue.this.name
  }
  statistic           = "Maximum"
  period              = var.alarm_period_seconds
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.oldest_message_age_threshold_seconds
  treat_missing_data  = "notBreaching"

  alarm_actions = var.alarm_actions
  ok_actions    = var.ok_actions

  tags = var.tags
}
