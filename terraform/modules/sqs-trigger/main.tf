# An SQS event source mapping that always reports partial batch failures, and
# the statements its function's role needs for it: consume this queue only,
# and send to this queue's DLQ only, because the batch processor dead-letters
# permanent failures itself instead of letting them be retried.

locals {
  queue_name = element(split(":", var.queue.queue_arn), 5)
}

data "aws_iam_policy_document" "this" {
  # What Lambda's poller needs, plus GetQueueUrl: the batch processor resolves
  # a record's queue ARN to the URL it needs to delay a transient failure
  # (ChangeMessageVisibility).
  statement {
    sid = "ConsumeQueue"
    actions = [
      "sqs:ReceiveMessage",
      "sqs:DeleteMessage",
      "sqs:GetQueueAttributes",
      "sqs:ChangeMessageVisibility",
      "sqs:GetQueueUrl",
    ]
    resources = [var.queue.queue_arn]
  }

  statement {
    sid       = "DeadLetterPermanentFailures"
    actions   = ["sqs:SendMessage"]
    resources = [var.queue.dlq_arn]
  }

  # Only with customer managed keys: Decrypt to read the queue, GenerateDataKey
  # (and Decrypt) to send to the DLQ, on that key only.
  dynamic "statement" {
    for_each = var.queue.kms_key_arn == null ? [] : [var.queue.kms_key_arn]
    content {
      sid       = "UseQueueKey"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [statement.value]
    }
  }
}

resource "aws_iam_role_policy" "this" {
  name   = "sqs-trigger-${local.queue_name}"
  role   = var.function.role_name
  policy = data.aws_iam_policy_document.this.json
}

resource "aws_lambda_event_source_mapping" "this" {
  event_source_arn = var.queue.queue_arn
  function_name    = var.function.function_name
  enabled          = var.enabled

  batch_size                         = var.batch_size
  maximum_batching_window_in_seconds = var.maximum_batching_window_in_seconds

  # Always: a failed record must not redeliver the ones that succeeded.
  function_response_types = ["ReportBatchItemFailures"]

  scaling_config {
    maximum_concurrency = var.maximum_concurrency
  }

  tags = var.tags

  lifecycle {
    precondition {
      condition     = var.queue.queue_visibility_timeout_seconds >= 6 * var.function.function_timeout
      error_message = "The visibility timeout of ${local.queue_name} (${var.queue.queue_visibility_timeout_seconds} s) must be at least 6x the timeout of ${var.function.function_name} (${var.function.function_timeout} s = ${6 * var.function.function_timeout} s), or messages become visible again while a batch is still being processed (AWS guidance for SQS event sources)."
    }
    precondition {
      condition     = var.function_reserved_concurrency == null || var.maximum_concurrency <= coalesce(var.function_reserved_concurrency, 0)
      error_message = "maximum_concurrency of the ${local.queue_name} trigger (${var.maximum_concurrency}) exceeds the reserved concurrency of ${var.function.function_name} (${coalesce(var.function_reserved_concurrency, -1)}): Lambda throttles the invokes beyond it, their messages return to the queue with rising receive counts and reach the DLQ (AWS: set reserved concurrency at least maximum concurrency)."
    }
  }

  # AWS checks the role's SQS permissions when the mapping is created.
  depends_on = [aws_iam_role_policy.this]
}
