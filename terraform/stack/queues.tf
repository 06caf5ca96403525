# Work queues, each with its DLQ and alarms, and the trigger of its consumer.
# Adding a queue: one entry in local.queues (its consumer must be in
# local.functions).

locals {
  queues = {
    audit = {
      consumer            = "audit-receiver"
      maximum_concurrency = 5
      # Environment variables of the consumer's backoff (pkg/batch).
      backoff_env = "AUDIT_BACKOFF"
    }
    sms = {
      consumer = "sms-sender"
      # Few concurrent senders: the SMS provider's account limits are low.
      maximum_concurrency = 2
      backoff_env         = "SMS_BACKOFF"
    }
  }

  queue_settings = {
    for q, d in local.queues : q => {
      consumer                             = d.consumer
      max_receive_count                    = coalesce(try(var.queue_overrides[q].max_receive_count, null), var.max_receive_count)
      batch_size                           = coalesce(try(var.queue_overrides[q].batch_size, null), 10)
      batching_window_seconds              = coalesce(try(var.queue_overrides[q].batching_window_seconds, null), 0)
      maximum_concurrency                  = coalesce(try(var.queue_overrides[q].maximum_concurrency, null), d.maximum_concurrency)
      oldest_message_age_threshold_seconds = coalesce(try(var.queue_overrides[q].oldest_message_age_threshold_seconds, null), 300)
      # AWS guidance for SQS event sources: at least 6x the function timeout,
      # plus the batching window during which records already wait.
      visibility_timeout_seconds = 6 * local.function_settings[d.consumer].timeout + coalesce(try(var.queue_overrides[q].batching_window_seconds, null), 0)
      # Retry budget (README.md): a transient failure hides the record for
      # base x 2^(receive-1) seconds, capped at max; SQS dead-letters it on
      # the receive after max_receive_count.
      backoff_env          = d.backoff_env
      backoff_base_seconds = coalesce(try(var.queue_overrides[q].backoff_base_seconds, null), 5)
      backoff_max_seconds  = coalesce(try(var.queue_overrides[q].backoff_max_seconds, null), 600)
    }
  }

  # Seconds a record that fails transiently on every receive stays on its
  # queue before SQS dead-letters it (batch.RetryBudget), processing aside.
  retry_budget_seconds = {
    for q, s in local.queue_settings : q => sum(concat([0], [
      for n in range(s.max_receive_count) : min(s.backoff_base_seconds * pow(2, n), s.backoff_max_seconds)
    ]))
  }
}

module "queue" {
  source   = "../modules/queue"
  for_each = local.queue_settings

  name                                 = "${local.prefix}-${each.key}"
  visibility_timeout_seconds           = each.value.visibility_timeout_seconds
  max_receive_count                    = each.value.max_receive_count
  kms_key_arn                          = var.queue_kms_key_arn
  alarm_period_seconds                 = var.alarm_period_seconds
  oldest_message_age_threshold_seconds = each.value.oldest_message_age_threshold_seconds
  alarm_actions                        = [module.alarm_topic.topic_arn]
  ok_actions                           = [module.alarm_topic.topic_arn]

  tags = local.tags
}

module "trigger" {
  source   = "../modules/sqs-trigger"
  for_each = local.queue_settings

  function = module.function[each.value.consumer]
  queue    = module.queue[each.key]

  batch_size                         = each.value.batch_size
  maximum_batching_window_in_seconds = each.value.batching_window_seconds
  maximum_concurrency                = each.value.maximum_concurrency
  function_reserved_concurrency      = local.function_settings[each.value.consumer].reserved_concurrency

  # In the emulator the local runtime polls instead (docs/development.md).
  enabled = !var.local_runtime

  tags = merge(local.tags, local.local_runtime_tags)
}
