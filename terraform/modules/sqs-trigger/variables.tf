variable "function" {
  type = object({
    function_name    = string
    function_timeout = number
    role_name        = string
  })
  description = "The function the queue triggers: a go-function module's outputs (function_name; function_timeout, for the visibility-timeout precondition; role_name, the execution role this module adds an inline policy sqs-trigger-<queue> to)."

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,64}$", var.function.function_name))
    error_message = "function.function_name must be a function name (not an ARN)."
  }

  validation {
    condition     = var.function.function_timeout >= 1 && var.function.function_timeout <= 900
    error_message = "function.function_timeout must be between 1 and 900."
  }

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", var.function.role_name))
    error_message = "function.role_name must be an IAM role name (not an ARN)."
  }
}

variable "queue" {
  type = object({
    queue_arn                        = string
    queue_visibility_timeout_seconds = number
    dlq_arn                          = string
    kms_key_arn                      = optional(string)
  })
  description = "The queue that triggers the function: a queue module's outputs (queue_arn; queue_visibility_timeout_seconds, for the precondition; dlq_arn, where the function may send permanent failures; kms_key_arn, the customer managed key of both queues, null with SQS-managed SSE)."

  validation {
    condition     = alltrue([for arn in [var.queue.queue_arn, var.queue.dlq_arn] : can(regex("^arn:aws[a-z-]*:sqs:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]+$", arn))])
    error_message = "queue.queue_arn and queue.dlq_arn must be standard SQS queue ARNs."
  }

  validation {
    condition     = var.queue.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.queue.kms_key_arn))
    error_message = "queue.kms_key_arn must be a KMS key ARN."
  }
}

variable "batch_size" {
  type        = number
  description = "Most records per invocation."
  default     = 10

  validation {
    condition     = var.batch_size >= 1 && var.batch_size <= 10000 && floor(var.batch_size) == var.batch_size
    error_message = "batch_size must be a whole number between 1 and 10000."
  }
}

variable "maximum_batching_window_in_seconds" {
  type        = number
  description = "How long Lambda gathers records before invoking. AWS requires at least 1 s when batch_size is above 10."
  default     = 0

  validation {
    condition     = var.maximum_batching_window_in_seconds >= 0 && var.maximum_batching_window_in_seconds <= 300
    error_message = "maximum_batching_window_in_seconds must be between 0 and 300."
  }

  validation {
    condition     = var.batch_size <= 10 || var.maximum_batching_window_in_seconds >= 1
    error_message = "a batch_size above 10 needs maximum_batching_window_in_seconds of at least 1."
  }
}

variable "function_reserved_concurrency" {
  type        = number
  description = "The function's reserved concurrency (null: none). maximum_concurrency may not exceed it: the mapping would drive invokes Lambda throttles, returning their messages to the queue and towards the DLQ."
  default     = null
}

variable "maximum_concurrency" {
  type        = number
  description = "Most concurrent invocations this queue drives (scaling_config.maximum_concurrency); protects downstream systems without reserved concurrency's throttling."
  default     = 5

  validation {
    condition     = var.maximum_concurrency >= 2 && var.maximum_concurrency <= 1000 && floor(var.maximum_concurrency) == var.maximum_concurrency
    error_message = "maximum_concurrency must be a whole number between 2 and 1000 (AWS limits)."
  }
}

variable "enabled" {
  type        = bool
  description = "Whether Lambda polls the queue. The local environment deploys mappings disabled: the emulator's own mapping must not consume messages, and the local runtime polls instead (docs/development.md)."
  default     = true
}

variable "tags" {
  type        = map(string)
  description = "Tags for the event source mapping."
  default     = {}
}
