variable "name" {
  type        = string
  description = "Function name; also the name of its execution role and of its log group /aws/lambda/<name>."

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,64}$", var.name))
    error_message = "name must be 1-64 characters of letters, digits, '-' and '_'."
  }
}

variable "description" {
  type        = string
  description = "What the function does."
  default     = ""
}

variable "package_path" {
  type        = string
  description = "Path of the deployment zip holding the bootstrap binary (make build writes dist/<folder>.zip). Its SHA-256 becomes source_code_hash, so a rebuild with changes redeploys and one without does not."

  validation {
    condition     = endswith(var.package_path, ".zip")
    error_message = "package_path must name a .zip file."
  }
}

variable "memory_size" {
  type        = number
  description = "Memory in MB (CPU scales with it)."
  default     = 256

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240 && floor(var.memory_size) == var.memory_size
    error_message = "memory_size must be a whole number of MB between 128 and 10240."
  }
}

variable "timeout" {
  type        = number
  description = "Timeout in seconds. An SQS trigger needs the queue's visibility timeout to be at least 6x this."
  default     = 10

  validation {
    condition     = var.timeout >= 1 && var.timeout <= 900 && floor(var.timeout) == var.timeout
    error_message = "timeout must be a whole number of seconds between 1 and 900."
  }
}

variable "environment_variables" {
  type        = map(string)
  description = "Environment variables of the function (configuration only: secrets go to Secrets Manager and are passed by ARN). LOG_LEVEL is set from log_level."
  default     = {}

  validation {
    condition     = alltrue([for k in keys(var.environment_variables) : can(regex("^[A-Za-z][A-Za-z0-9_]*$", k)) && !startswith(k, "AWS_") && k != "LOG_LEVEL"])
    error_message = "environment variable names must be letters, digits and '_', must not start with AWS_ (reserved by Lambda), and LOG_LEVEL comes from log_level."
  }
}

variable "log_level" {
  type        = string
  description = "Log level: the function's LOG_LEVEL (logrus) and Lambda's application log filter."
  default     = "info"

  validation {
    condition     = contains(["trace", "debug", "info", "warn", "error", "fatal"], var.log_level)
    error_message = "log_level must be one of trace, debug, info, warn, error, fatal."
  }
}

variable "log_retention_days" {
  type        = number
  description = "Retention of the function's log group."
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653)."
  }
}

variable "log_kms_key_arn" {
  type        = string
  description = "Customer managed KMS key for the log group (its key policy must allow logs.<region>.amazonaws.com). Null: CloudWatch Logs' own encryption."
  default     = null

  validation {
    condition     = var.log_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.log_kms_key_arn))
    error_message = "log_kms_key_arn must be a KMS key ARN."
  }
}

variable "kms_key_arn" {
  type        = string
  description = "Customer managed KMS key encrypting the function's environment variables at rest; the role gets kms:Decrypt on this key only. Null: Lambda's AWS managed key."
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (not an alias): the role's kms:Decrypt statement needs the key ARN."
  }
}

variable "reserved_concurrency" {
  type        = number
  description = "Reserved concurrent executions (a cap and a guarantee). Null: unreserved, the account pool."
  default     = null

  validation {
    condition     = var.reserved_concurrency == null || try(var.reserved_concurrency >= 0 && floor(var.reserved_concurrency) == var.reserved_concurrency, false)
    error_message = "reserved_concurrency must be null or a whole number >= 0."
  }
}

variable "policy_statements" {
  type = list(object({
    sid       = string
    effect    = optional(string, "Allow")
    actions   = list(string)
    resources = list(string)
    conditions = optional(list(object({
      test     = string
      variable = string
      values   = list(string)
    })), [])
  }))
  description = "The statements the function needs beyond logs and X-Ray: exact actions on exact resource ARNs."
  default     = []

  validation {
    condition     = alltrue([for s in var.policy_statements : can(regex("^[A-Za-z0-9]+$", s.sid)) && contains(["Allow", "Deny"], s.effect)])
    error_message = "every statement needs an alphanumeric sid and an effect of Allow or Deny."
  }

  validation {
    condition     = alltrue([for s in var.policy_statements : length(s.actions) > 0 && length(s.resources) > 0])
    error_message = "every statement needs at least one action and one resource."
  }

  validation {
    condition     = alltrue(flatten([for s in var.policy_statements : [for a in s.actions : can(regex("^[a-z0-9-]+:[A-Za-z0-9]+$", a))]]))
    error_message = "actions must be exact service:Action names: no wildcards."
  }

  validation {
    condition     = length(distinct([for s in var.policy_statements : s.sid])) == length(var.policy_statements)
    error_message = "statement sids must be unique."
  }
}

variable "permissions_boundary_arn" {
  type        = string
  description = "ARN of the IAM managed policy set as the execution role's permissions boundary (the bootstrap's \"<name_prefix>-boundary\"). Null: no boundary."
  default     = null

  validation {
    condition     = var.permissions_boundary_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:policy/.+$", var.permissions_boundary_arn))
    error_message = "permissions_boundary_arn must be an IAM managed policy ARN (arn:aws:iam::ACCOUNT:policy/NAME)."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags for the function, its role and its log group."
  default     = {}
}
