# The stack's settings. Every environment root declares exactly these
# variables by linking this file (environments/_shared/variables.tf is a link
# to it, and environments/<env>/variables.tf to that), and _shared/stack.tf
# (scripts/tfshared) passes each one through: a new setting is one block here,
# then `make tfshared`. inputs.tf holds the two inputs each root sets itself.

variable "name_prefix" {
  type        = string
  description = "Prefix of every resource name, e.g. offload-prod. Unique per environment (and per test run in the emulator)."

  validation {
    # The longest derived name is the function/role "<prefix>-dlq-alarm-handler" (64 max).
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-32 lowercase letters, digits and '-', starting with a letter and not ending with '-'."
  }
}

variable "log_level" {
  type        = string
  description = "Log level of every function (LOG_LEVEL and Lambda's application log filter; the go-function module validates the value)."
  default     = "info"
}

variable "log_retention_days" {
  type        = number
  description = "Retention of every function's log group (the go-function module validates the value)."
  default     = 30
}

variable "function_timeout_seconds" {
  type        = number
  description = "Timeout of every function unless overridden in function_overrides. Each work queue's visibility timeout is 6x its consumer's timeout plus its batching window."
  default     = 10
}

variable "function_memory_mb" {
  type        = number
  description = "Memory of every function unless overridden in function_overrides."
  default     = 256
}

variable "function_overrides" {
  type = map(object({
    timeout_seconds      = optional(number)
    memory_mb            = optional(number)
    reserved_concurrency = optional(number)
  }))
  description = "Per-function settings, keyed by folder under functions/ (audit-receiver, sms-sender, dlq-alarm-handler)."
  default     = {}

  validation {
    condition     = alltrue([for k in keys(var.function_overrides) : contains(["audit-receiver", "sms-sender", "dlq-alarm-handler"], k)])
    error_message = "function_overrides keys must be function folders: audit-receiver, sms-sender, dlq-alarm-handler."
  }
}

variable "max_receive_count" {
  type        = number
  description = "Receives after which a message moves to its DLQ, for every work queue unless overridden in queue_overrides. With the default backoff (5 s doubling to 10 min) 12 receives give a record about an hour (3635 s) of a failing dependency before it is dead-lettered (README.md, \"Retry budget\"; output queue_retry_budget_seconds)."
  default     = 12
}

variable "queue_overrides" {
  type = map(object({
    max_receive_count                    = optional(number)
    batch_size                           = optional(number)
    batching_window_seconds              = optional(number)
    maximum_concurrency                  = optional(number)
    oldest_message_age_threshold_seconds = optional(number)
    backoff_base_seconds                 = optional(number)
    backoff_max_seconds                  = optional(number)
  }))
  description = "Per-queue settings, keyed by queue (audit, sms). Defaults: batch 10, window 0 s, maximum concurrency 5 (audit) and 2 (sms, to protect the SMS provider), oldest-message alarm at 300 s, backoff of transient failures 5 s doubling per receive up to 600 s (the consumer's *_BACKOFF_BASE / *_BACKOFF_MAX)."
  default     = {}

  validation {
    condition     = alltrue([for k in keys(var.queue_overrides) : contains(["audit", "sms"], k)])
    error_message = "queue_overrides keys must be queues: audit, sms."
  }

  validation {
    condition = alltrue([for q in values(var.queue_overrides) : (
      (q.backoff_base_seconds == null || try(q.backoff_base_seconds >= 1 && floor(q.backoff_base_seconds) == q.backoff_base_seconds, false)) &&
      (q.backoff_max_seconds == null || try(q.backoff_max_seconds >= 1 && q.backoff_max_seconds <= 43200 && floor(q.backoff_max_seconds) == q.backoff_max_seconds, false)) &&
      (q.backoff_base_seconds == null || q.backoff_max_seconds == null || try(q.backoff_base_seconds <= q.backoff_max_seconds, false))
    )])
    error_message = "backoff_base_seconds and backoff_max_seconds must be whole seconds, at least 1, the max at most 43200 (SQS's 12-hour visibility limit) and not below the base."
  }
}

variable "alarm_period_seconds" {
  type        = number
  description = "Period of the queue alarms: 60 in AWS (SQS publishes metrics every minute); shorter in the emulator, where the local runtime evaluates alarms."
  default     = 60
}

variable "alarm_email_addresses" {
  type        = list(string)
  description = "Email addresses subscribed to the alarm topic (raw CloudWatch alarm notifications)."
  default     = []
}

variable "notification_email_addresses" {
  type        = list(string)
  description = "Email addresses subscribed to the notifications topic (the DLQ alarm handler's readable reports)."
  default     = []
}

variable "sms_provider" {
  type        = string
  description = "SMS provider of the sms-sender: sns (Amazon SNS to phone numbers) or twilio (credentials in the Twilio secret). Only the chosen provider's permissions are granted."
  default     = "sns"

  validation {
    condition     = contains(["sns", "twilio"], var.sms_provider)
    error_message = "sms_provider must be sns or twilio."
  }
}

variable "twilio_api_url" {
  type        = string
  description = "Base URL of the Twilio API the sms-sender calls (sets its TWILIO_API_URL; null: not set, Twilio's own). The local fault campaign (make chaos) points it at its Twilio-compatible fake."
  default     = null
}

variable "deletion_protection" {
  type        = bool
  description = "DynamoDB deletion protection on both tables. On in production: a destroy must then be preceded by turning it off."
  default     = true
}

variable "point_in_time_recovery" {
  type        = bool
  description = "DynamoDB point-in-time recovery on both tables."
  default     = true
}

variable "secret_recovery_window_days" {
  type        = number
  description = "Days a deleted secret can be restored (0: deleted at once, for throwaway environments)."
  default     = 30
}

variable "kms_deletion_window_days" {
  type        = number
  description = "Waiting period before the topics' KMS key is deleted after a destroy."
  default     = 30

  validation {
    condition     = var.kms_deletion_window_days >= 7 && var.kms_deletion_window_days <= 30
    error_message = "kms_deletion_window_days must be between 7 and 30."
  }
}

variable "local_runtime" {
  type        = bool
  description = "The emulator environment: event source mappings are deployed disabled (the emulator's own mapping must not consume messages) and functions and mappings are tagged offload:local-runtime = enabled so the local runtime polls them instead (docs/development.md)."
  default     = false
}

variable "tags" {
  type        = map(string)
  description = "Extra tags for every resource that takes tags."
  default     = {}
}

variable "queue_kms_key_arn" {
  type        = string
  description = "Customer managed KMS key for the work queues and DLQs. Null (default): SQS-managed SSE. With a key, consumers and the DLQ alarm handler get kms:Decrypt (and kms:GenerateDataKey to dead-letter) on it only."
  default     = null
}

variable "permissions_boundary_name" {
  type        = string
  description = "Name of the IAM managed policy every role the stack creates gets as its permissions boundary: the bootstrap's \"<name_prefix>-boundary\", without which the deploy role may not create roles. Null (the emulator): no boundary."
  default     = null

  validation {
    condition     = var.permissions_boundary_name == null || can(regex("^[A-Za-z0-9+=,.@_-]{1,128}$", var.permissions_boundary_name))
    error_message = "permissions_boundary_name must be an IAM policy name (1-128 letters, digits and +=,.@_-), not an ARN."
  }
}

variable "sms_idempotency_retention_seconds" {
  type        = number
  description = "How long sms-sender keeps an idempotency record (IDEMPOTENCY_RETENTION). Null: the SMS queue's retention + its DLQ's retention + the queue's visibility timeout (retention.tf), the least that outlives every delivery of a request, one redrive included. A lower value is refused."
  default     = null

  validation {
    condition     = var.sms_idempotency_retention_seconds == null || try(var.sms_idempotency_retention_seconds > 0 && floor(var.sms_idempotency_retention_seconds) == var.sms_idempotency_retention_seconds, false)
    error_message = "sms_idempotency_retention_seconds must be null or a whole number of seconds above 0."
  }
}

variable "alarm_dedupe_retention_seconds" {
  type        = number
  description = "How long dlq-alarm-handler keeps the record of an alarm state change it reported (IDEMPOTENCY_RETENTION). Null: Lambda's maximum event age + the failures queue's retention + the handler's timeout (retention.tf). A lower value is refused."
  default     = null

  validation {
    condition     = var.alarm_dedupe_retention_seconds == null || try(var.alarm_dedupe_retention_seconds > 0 && floor(var.alarm_dedupe_retention_seconds) == var.alarm_dedupe_retention_seconds, false)
    error_message = "alarm_dedupe_retention_seconds must be null or a whole number of seconds above 0."
  }
}
