variable "name" {
  type        = string
  description = "Secret name, e.g. offload-prod/twilio."

  validation {
    condition     = can(regex("^[A-Za-z0-9/_+=.@-]{1,512}$", var.name))
    error_message = "name must be 1-512 characters of letters, digits and /_+=.@-."
  }
}

variable "description" {
  type        = string
  description = "What the secret holds and its expected shape (never the value)."
}

variable "kms_key_arn" {
  type        = string
  description = "Customer managed KMS key. Null uses the AWS managed key aws/secretsmanager, which needs no extra key permissions for readers in the same account."
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN."
  }
}

variable "recovery_window_in_days" {
  type        = number
  description = "Days a deleted secret can be restored: 0 deletes at once (throwaway environments), otherwise 7-30."
  default     = 30

  validation {
    condition     = var.recovery_window_in_days == 0 || (var.recovery_window_in_days >= 7 && var.recovery_window_in_days <= 30)
    error_message = "recovery_window_in_days must be 0 or between 7 and 30."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags for the secret."
  default     = {}
}
