# What happens to an alarm notification the DLQ alarm handler could not send.
#
# SNS invokes the handler asynchronously. Lambda retries a failed invocation
# (maximum_retry_attempts) for at most maximum_event_age_seconds; after that
# the event goes to the on-failure destination, an SQS queue, instead of being
# dropped. A message in that queue is an alarm nobody was told about: its own
# alarm mails the alarm topic's e-mail subscribers through a topic the handler
# does NOT subscribe to (the alarm topic would invoke the failing handler
# again, and a handler that cannot report would report its own failure to
# itself).

locals {
  alarm_handler_async = {
    # Lambda's maximum: two retries, six hours.
    maximum_retry_attempts    = 2
    maximum_event_age_seconds = 21600
  }

  alarm_handler_failures_name = "${local.prefix}-dlq-alarm-handler-failures"
  # Derived from the name so the TLS-only policy can be set in CreateQueue.
  alarm_handler_failures_arn = "arn:${local.partition}:sqs:${data.aws_region.current.name}:${local.account}:${local.alarm_handler_failures_name}"
  # SQS's maximum: on-call has two weeks to read a lost notification.
  alarm_handler_failures_retention_seconds = 1209600
}

# TLS-only, like every queue of the stack.
module "alarm_handler_failures_policy" {
  source = "../modules/tls-only-policy"

  policy_id = "alarm-handler-failures-tls-only"
  actions   = ["sqs:*"]
  resources = [local.alarm_handler_failures_arn]
}

resource "aws_sqs_queue" "alarm_handler_failures" {
  name                      = local.alarm_handler_failures_name
  message_retention_seconds = local.alarm_handler_failures_retention_seconds

  # Encrypted with the stack's key: the handler's role already holds
  # kms:GenerateDataKey and kms:Decrypt on it (the notifications topic).
  kms_master_key_id                 = aws_kms_key.topics.arn
  kms_data_key_reuse_period_seconds = 300

  policy = module.alarm_handler_failures_policy.json

  tags = local.tags
}

resource "aws_lambda_function_event_invoke_config" "alarm_handler" {
  function_name                = module.function["dlq-alarm-handler"].function_name
  maximum_retry_attempts       = local.alarm_handler_async.maximum_retry_attempts
  maximum_event_age_in_seconds = local.alarm_handler_async.maximum_event_age_seconds

  destination_config {
    on_failure {
      destination = aws_sqs_queue.alarm_handler_failures.arn
    }
  }
}

# The alarm topic's e-mail subscribers, without the handler.
module "alarm_email_topic" {
  source = "../modules/notifications"

  name               = "${local.prefix}-alarms-email"
  display_name       = "${local.prefix} alarms (direct)"
  kms_key_arn        = aws_kms_key.topics.arn
  publisher_services = ["cloudwatch.amazonaws.com"]
  email_addresses    = var.alarm_email_addresses

  tags = local.tags
}

resource "aws_cloudwatch_metric_alarm" "alarm_handler_failures" {
  alarm_name        = "${local.alarm_handler_failures_name}-not-empty"
  alarm_description = "Alarm notifications the DLQ alarm handler could not send after ${local.alarm_handler_async.maximum_retry_attempts} retries: read them in ${local.alarm_handler_failures_name} (the Lambda invocation record names the alarm), then delete them."

  namespace   = "AWS/SQS"
  metric_name = "ApproximateNumberOfMessagesVisible"
  dimensions = {
    QueueName = aws_sqs_queue.alarm_handler_failures.name
  }
  statistic           = "Maximum"
  period              = var.alarm_period_seconds
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"

  alarm_actions = [module.alarm_email_topic.topic_arn]
  ok_actions    = [module.alarm_email_topic.topic_arn]

  tags = local.tags
}
