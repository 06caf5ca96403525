# How long idempotency records are kept: at least as long as the request they
# guard can still be delivered, or a late delivery finds no record and acts
# again (an SMS sent twice, an alarm reported twice).
#
# sms-sender: a request lives in the SMS queue for at most its retention; a
# standard queue keeps the original enqueue time when it dead-letters, so the
# DLQ's retention bounds the whole first life; one `offload dlq redrive` gives
# it one more life in the queue (the on-call notification asks for exactly
# that); and a delivery in flight holds its lease for at most the visibility
# timeout. Records therefore live at least
#   queue retention + DLQ retention + visibility timeout
# (pkg/idempotency counts from the record's last write, which is never before
# the request was first enqueued). A request redriven a second time may
# outlive its record: sms-sender then refuses it (class expired) by its first
# enqueue time, which dead letters and redrives carry
# (offload.first-enqueued-at), rather than risk a second text.
# dlq-alarm-handler: Lambda retries an SNS event for at most the maximum event
# age; its failure record waits in the failures queue for that queue's
# retention (someone may replay it); plus the function's timeout. Records live
#   maximum event age + failures queue retention + timeout.
#
# Both may be set higher (sms_idempotency_retention_seconds,
# alarm_dedupe_retention_seconds); lower is refused at plan time.

locals {
  sms_queue = local.queue_settings["sms"]

  minimum_retention_seconds = {
    sms   = module.queue["sms"].message_retention_seconds + module.queue["sms"].dlq_message_retention_seconds + local.sms_queue.visibility_timeout_seconds
    alarm = local.alarm_handler_async.maximum_event_age_seconds + local.alarm_handler_failures_retention_seconds + local.function_settings["dlq-alarm-handler"].timeout
  }

  retention_seconds = {
    sms   = coalesce(var.sms_idempotency_retention_seconds, local.minimum_retention_seconds.sms)
    alarm = coalesce(var.alarm_dedupe_retention_seconds, local.minimum_retention_seconds.alarm)
  }
}
