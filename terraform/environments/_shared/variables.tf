# Shared by every environment root, which links this file; the values are in each root's terraform.tfvars.
# Descriptions of the stack's own settings: ../../stack/variables.tf.

variable "region" {
  type        = string
  description = "AWS region. Null: the standard AWS_REGION environment variable (the local environment uses that, so the emulator, Terraform and the SDKs agree)."
  default     = null
}

variable "allowed_account_ids" {
  type        = list(string)
  description = "Accounts Terraform may change: a plan with credentials of any other account fails before touching it. Required in staging and prod (outputs.tf refuses the plan without it); dev may omit it; null: no check."
  default     = null

  validation {
    condition     = var.allowed_account_ids == null || alltrue([for a in coalesce(var.allowed_account_ids, []) : can(regex("^[0-9]{12}$", a))])
    error_message = "allowed_account_ids must be 12-digit AWS account ids."
  }
}

variable "name_prefix" {
  type        = string
  description = "Prefix of every resource name (offload-<environment>; tests use a unique one)."
}

variable "dist_dir" {
  type        = string
  description = "Directory holding the function packages <folder>.zip (make build writes dist/ at the repository root)."
  default     = "../../../dist"
}

variable "log_level" {
  type        = string
  description = "Log level of every function."
  default     = "info"
}

variable "log_retention_days" {
  type        = number
  description = "Retention of the function log groups."
  default     = 30
}

variable "function_timeout_seconds" {
  type        = number
  description = "Default function timeout; queue visibility timeouts follow (6x)."
  default     = 10
}

variable "function_memory_mb" {
  type        = number
  description = "Default function memory."
  default     = 256
}

variable "function_overrides" {
  type = map(object({
    timeout_seconds      = optional(number)
    memory_mb            = optional(number)
    reserved_concurrency = optional(number)
  }))
  description = "Per-function settings keyed by function folder."
  default     = {}
}

variable "max_receive_count" {
  type        = number
  description = "Receives before a message moves to its DLQ (12: about an hour of retries with the default backoff)."
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
  description = "Per-queue settings keyed by queue (audit, sms)."
  default     = {}
}

variable "alarm_period_seconds" {
  type        = number
  description = "Period of the queue alarms."
  default     = 60
}

variable "alarm_email_addresses" {
  type        = list(string)
  description = "Email addresses subscribed to the alarm topic."
  default     = []
}

variable "notification_email_addresses" {
  type        = list(string)
  description = "Email addresses subscribed to the notifications topic."
  default     = []
}

variable "sms_provider" {
  type        = string
  description = "sns or twilio."
  default     = "sns"
}

variable "twilio_api_url" {
  type        = string
  description = "Twilio API base URL for the sms-sender; null: Twilio's own (make chaos sets a local fake)."
  default     = null
}

variable "deletion_protection" {
  type        = bool
  description = "DynamoDB deletion protection."
  default     = true
}

variable "point_in_time_recovery" {
  type        = bool
  description = "DynamoDB point-in-time recovery."
  default     = true
}

variable "secret_recovery_window_days" {
  type        = number
  description = "Recovery window of deleted secrets (0: immediate)."
  default     = 30
}

variable "kms_deletion_window_days" {
  type        = number
  description = "Waiting period before the topics key is deleted."
  default     = 30
}

variable "queue_kms_key_arn" {
  type        = string
  description = "Customer managed KMS key for the queues (null: SQS-managed SSE)."
  default     = null
}

variable "local_runtime" {
  type        = bool
  description = "True only in the emulator: mappings disabled, functions tagged for the local runtime."
  default     = false
}

variable "tags" {
  type        = map(string)
  description = "Extra tags for every resource."
  default     = {}
}

variable "permissions_boundary_name" {
  type        = string
  description = "Permissions boundary of every role the stack creates: the bootstrap's \"<name_prefix>-boundary\" (null in the emulator)."
  default     = null
}

variable "sms_idempotency_retention_seconds" {
  type        = number
  description = "sms-sender's idempotency retention (null: derived from the SMS queue and DLQ retention; lower is refused)."
  default     = null
}

variable "alarm_dedupe_retention_seconds" {
  type        = number
  description = "dlq-alarm-handler's dedupe retention (null: derived from the maximum event age and the failures queue's retention; lower is refused)."
  default     = null
}
