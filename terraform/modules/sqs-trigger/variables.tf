variable "function_name" {
  type        = string
  description = "Name of the function the queue triggers."

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,64}$", var.function_name))
    error_message = "function_name must be a function name (not an ARN)."
  }
}

variable "function_timeout_seconds" {
  type        = number
  description = "Timeout of that function (go-function output function_timeout), for the visibility-timeout precondition."

  validation {
    condition     = var.function_timeout_seconds >= 1 && var.function_timeout_seconds <= 900
    error_message = "function_timeout_seconds must be between 1 and 900."
  }
}

variable "role_name" {
  type        = string
  description = "Name of the function's execution role; this module adds an inline policy sqs-trigger-<queue> to it."

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", var.role_name))
    error_message = "role_name must be an IAM role name (not an ARN)."
  }
}

variable "queue_arn" {
  type        = string
  description = "ARN of the queue that triggers the function."

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:sqs:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]+$", var.queue_arn))
    error_message = "queue_arn must be a standard SQS queue ARN."
  }
}

variable "queue_visibility_timeout_seconds" {
  type        = number
  description = "Visibility timeout of that queue (queue output queue_visibility_timeout_seconds)."
}

variable "dlq_arn" {
  type        = string
  description = "ARN of the queue's DLQ: the function may send permanent failures there."

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:sqs:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]+$", var.dlq_arn))
    error_message = "dlq_arn must be a standard SQS queue ARN."
  }
}

variable "kms_key_arn" {
  type        = string
  description = "Customer managed KMS key of the queue and its DLQ (queue output kms_key_arn); null with SQS-managed SSE."
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN."
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
