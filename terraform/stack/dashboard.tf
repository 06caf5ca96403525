# One dashboard per environment: queue depth and age, DLQ depth, and each
# function's invocations, errors, throttles and duration.

data "aws_region" "current" {}

locals {
  region = data.aws_region.current.name

  queue_widgets = flatten([
    for q in keys(local.queues) : [
      {
        type   = "metric"
        width  = 8
        height = 6
        properties = {
          title  = "${q} queue: messages"
          region = local.region
          stat   = "Maximum"
          period = 60
          metrics = [
            ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", module.queue[q].queue_name, { label = "visible" }],
            ["AWS/SQS", "ApproximateNumberOfMessagesNotVisible", "QueueName", module.queue[q].queue_name, { label = "in flight" }],
          ]
        }
      },
      {
        type   = "metric"
        width  = 8
        height = 6
        properties = {
          title  = "${q} queue: oldest message age (s)"
          region = local.region
          stat   = "Maximum"
          period = 60
          metrics = [
            ["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", module.queue[q].queue_name],
          ]
          annotations = {
            horizontal = [{ label = "alarm", value = local.queue_settings[q].oldest_message_age_threshold_seconds }]
          }
        }
      },
      {
        type   = "metric"
        width  = 8
        height = 6
        properties = {
          title  = "${q} DLQ: messages"
          region = local.region
          stat   = "Maximum"
          period = 60
          metrics = [
            ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", module.queue[q].dlq_name],
          ]
          annotations = {
            horizontal = [{ label = "alarm", value = 1 }]
          }
        }
      },
    ]
  ])

  function_widgets = flatten([
    for f in keys(local.functions) : [
      {
        type   = "metric"
        width  = 12
        height = 6
        properties = {
          title  = "${f}: invocations, errors, throttles"
          region = local.region
          stat   = "Sum"
          period = 60
          metrics = [
            ["AWS/Lambda", "Invocations", "FunctionName", module.function[f].function_name],
            ["AWS/Lambda", "Errors", "FunctionName", module.function[f].function_name],
            ["AWS/Lambda", "Throttles", "FunctionName", module.function[f].function_name],
          ]
        }
      },
      {
        type   = "metric"
        width  = 12
        height = 6
        properties = {
          title  = "${f}: duration (ms)"
          region = local.region
          period = 60
          metrics = [
            ["AWS/Lambda", "Duration", "FunctionName", module.function[f].function_name, { stat = "p50", label = "p50" }],
            ["AWS/Lambda", "Duration", "FunctionName", module.function[f].function_name, { stat = "p99", label = "p99" }],
            ["AWS/Lambda", "Duration", "FunctionName", module.function[f].function_name, { stat = "Maximum", label = "max" }],
          ]
          annotations = {
            horizontal = [{ label = "timeout", value = module.function[f].function_timeout * 1000 }]
          }
        }
      },
    ]
  ])
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = local.prefix
  dashboard_body = jsonencode({
    widgets = concat(local.queue_widgets, local.function_widgets)
  })
}
