# One dashboard per environment: queue depth and age, DLQ depth, and each
# function's invocations, errors, throttles and duration.

data "aws_region" "current" {}

locals {
  region = data.aws_region.current.name

  # Every widget is a metric graph of one minute periods; each entry here is
  # what differs: width, title, statistic (null: per metric), metrics and
  # the horizontal lines at the alarm threshold or the timeout.
  widgets = concat(
    flatten([
      for q in keys(local.queues) : [
        {
          width = 8
          title = "${q} queue: messages"
          stat  = "Maximum"
          metrics = [
            ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", module.queue[q].queue_name, { label = "visible" }],
            ["AWS/SQS", "ApproximateNumberOfMessagesNotVisible", "QueueName", module.queue[q].queue_name, { label = "in flight" }],
          ]
          lines = []
        },
        {
          width   = 8
          title   = "${q} queue: oldest message age (s)"
          stat    = "Maximum"
          metrics = [["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", module.queue[q].queue_name]]
          lines   = [{ label = "alarm", value = local.queue_settings[q].oldest_message_age_threshold_seconds }]
        },
        {
          width   = 8
          title   = "${q} DLQ: messages"
          stat    = "Maximum"
          metrics = [["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", module.queue[q].dlq_name]]
          lines   = [{ label = "alarm", value = 1 }]
        },
      ]
    ]),
    flatten([
      for f in keys(local.functions) : [
        {
          width = 12
          title = "${f}: invocations, errors, throttles"
          stat  = "Sum"
          metrics = [
            for m in ["Invocations", "Errors", "Throttles"] : ["AWS/Lambda", m, "FunctionName", module.function[f].function_name]
          ]
          lines = []
        },
        {
          width = 12
          title = "${f}: duration (ms)"
          stat  = null
          metrics = [
            ["AWS/Lambda", "Duration", "FunctionName", module.function[f].function_name, { stat = "p50", label = "p50" }],
            ["AWS/Lambda", "Duration", "FunctionName", module.function[f].function_name, { stat = "p99", label = "p99" }],
            ["AWS/Lambda", "Duration", "FunctionName", module.function[f].function_name, { stat = "Maximum", label = "max" }],
          ]
          lines = [{ label = "timeout", value = module.function[f].function_timeout * 1000 }]
        },
      ]
    ]),
  )
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = local.prefix
  dashboard_body = jsonencode({
    widgets = [
      for w in local.widgets : {
        type   = "metric"
        width  = w.width
        height = 6
        properties = merge(
          { title = w.title, region = local.region, period = 60, metrics = w.metrics },
          w.stat == null ? {} : { stat = w.stat },
          length(w.lines) == 0 ? {} : { annotations = { horizontal = w.lines } },
        )
      }
    ]
  })
}
