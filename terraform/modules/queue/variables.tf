variable "name" {
  type        = string
  description = "Name of the work queue. The dead-letter queue is named <name>-dlq unless dlq_name is set."

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,76}$", var.name))
    error_message = "name must be 1-76 characters of letters, digits, '-' and '_' (SQS allows 80, and the DLQ adds \"-dlq\"). FIFO queues are not supported by this module."
  }
}

variable "dlq_name" {
  type        = string
  description = "Name of the dead-letter queue. Defaults to <name>-dlq."
  default     = null

  validation {
    condition     = var.dlq_name == null || can(regex("^[A-Za-z0-9_-]{1,80}$", var.dlq_name))
    error_message = "dlq_name must be 1-80 characters of letters, digits, '-' and '_'."
  }
}

variable "visibility_timeout_seconds" {
  type        = number
  description = "Visibility timeout of the work queue. With a Lambda trigger it must be at least 6x the function timeout (the sqs-trigger module enforces it)."

  validation {
    condition     = var.visibility_timeout_seconds >= 0 && var.visibility_timeout_seconds <= 43200 && floor(var.visibility_timeout_seconds) == var.visibility_timeout_seconds
    error_message = "visibility_timeout_seconds must be a whole number between 0 and 43200 (12 hours)."
  }
}

variable "max_receive_count" {
  type        = number
  description = "Receives after which SQS moves a message to the DLQ (redrive policy maxReceiveCount)."
  default     = 5

  validation {
    condition     = var.max_receive_count >= 1 && var.max_receive_count <= 1000 && floor(var.max_receive_count) == var.max_receive_count
    error_message = "max_receive_count must be a whole number between 1 and 1000."
  }
}

variable "receive_wait_time_seconds" {
  type        = number
  description = "Long-polling wait of the work queue and the DLQ."
  default     = 20

  validation {
    condition     = var.receive_wait_time_seconds >= 0 && var.receive_wait_time_seconds <= 20
    error_message = "receive_wait_time_seconds must be between 0 and 20."
  }
}

variable "message_retention_seconds" {
  type        = number
  description = "How long the work queue keeps a message (default 4 days)."
  default     = 345600

  validation {
    condition     = var.message_retention_seconds >= 60 && var.message_retention_seconds <= 1209600
    error_message = "message_retention_seconds must be between 60 (1 minute) and 1209600 (14 days)."
  }
}

variable "dlq_message_retention_seconds" {
  type        = number
  description = "How long the DLQ keeps a message (default 10 days). A standard queue keeps a message's original enqueue time when it is dead-lettered, so this must be longer than message_retention_seconds or messages expire in the DLQ sooner than expected."
  default     = 864000

  validation {
    condition     = var.dlq_message_retention_seconds >= 60 && var.dlq_message_retention_seconds <= 1209600
    error_message = "dlq_message_retention_seconds must be between 60 and 1209600 (14 days)."
  }

  validation {
    condition     = var.dlq_message_retention_seconds > var.message_retention_seconds
    error_message = "dlq_message_retention_seconds must be longer than message_retention_seconds: a dead-lettered message keeps its original enqueue time."
  }
}

variable "max_message_size" {
  type        = number
  description = "Largest message body in bytes, set explicitly on both queues. SQS accepts up to 1 MiB (1048576) since August 2025, but AWS provider 5.100 validates at most 262144 (256 KiB); raise this with a provider that accepts it. Producers must size-guard to the same value (output queue_max_message_size)."
  default     = 262144

  validation {
    condition     = var.max_message_size >= 1024 && var.max_message_size <= 262144
    error_message = "max_message_size must be between 1024 and 262144 bytes (the AWS provider 5.x limit)."
  }
}

variable "kms_key_arn" {
  type        = string
  description = "ARN of a customer managed KMS key for both queues. Null (default) uses SQS-managed SSE (SSE-SQS). Consumers then need kms:Decrypt on this key, senders kms:GenerateDataKey (the sqs-trigger module adds both)."
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID), not an alias or key id: IAM statements need the key ARN."
  }
}

variable "kms_data_key_reuse_period_seconds" {
  type        = number
  description = "How long SQS reuses a data key before calling KMS again (only with kms_key_arn)."
  default     = 300

  validation {
    condition     = var.kms_data_key_reuse_period_seconds >= 60 && var.kms_data_key_reuse_period_seconds <= 86400
    error_message = "kms_data_key_reuse_period_seconds must be between 60 and 86400."
  }
}

variable "alarm_actions" {
  type        = list(string)
  description = "ARNs notified when an alarm goes to ALARM (normally the alarm SNS topic)."
  default     = []
}

variable "ok_actions" {
  type        = list(string)
  description = "ARNs notified when an alarm returns to OK (normally the alarm SNS topic, so on-call hears about recovery)."
  default     = []
}

variable "alarm_period_seconds" {
  type        = number
  description = "Period of both alarms. AWS/SQS metrics are published every minute, so 60 in AWS; the local environment uses a shorter one because its local runtime evaluates alarms itself."
  default     = 60

  validation {
    condition     = contains([10, 20, 30], var.alarm_period_seconds) || (var.alarm_period_seconds >= 60 && var.alarm_period_seconds % 60 == 0)
    error_message = "alarm_period_seconds must be 10, 20, 30 or a multiple of 60."
  }
}

variable "oldest_message_age_threshold_seconds" {
  type        = number
  description = "The work queue's ApproximateAgeOfOldestMessage alarm fires above this age: consumers are not keeping up or keep failing."
  default     = 300

  validation {
    condition     = var.oldest_message_age_threshold_seconds >= 1
    error_message = "oldest_message_age_threshold_seconds must be at least 1."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags for both queues and both alarms."
  default     = {}
}
