variable "name" {
  type        = string
  description = "Topic name."

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,256}$", var.name))
    error_message = "name must be 1-256 characters of letters, digits, '-' and '_' (standard topics only)."
  }
}

variable "display_name" {
  type        = string
  description = "Display name (the sender name of email notifications)."
  default     = null

  validation {
    condition     = var.display_name == null || try(length(var.display_name) <= 100, false)
    error_message = "display_name must be at most 100 characters."
  }
}

variable "kms_key_arn" {
  type        = string
  description = "Customer managed KMS key for the topic. For an alarm topic its key policy must let cloudwatch.amazonaws.com use kms:Decrypt and kms:GenerateDataKey*: CloudWatch cannot publish to a topic encrypted with the AWS managed aws/sns key. Publishers that are roles need kms:GenerateDataKey and kms:Decrypt on it."
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN."
  }
}

variable "publisher_services" {
  type        = list(string)
  description = "AWS service principals allowed to publish on behalf of this account, e.g. [\"cloudwatch.amazonaws.com\"] for alarm topics. Roles in the account publish through their identity policies."
  default     = []

  validation {
    condition     = alltrue([for s in var.publisher_services : endswith(s, ".amazonaws.com")])
    error_message = "publisher_services must be service principals (*.amazonaws.com)."
  }
}

variable "email_addresses" {
  type        = list(string)
  description = "Email addresses to subscribe. Each must confirm the subscription from the mail AWS sends."
  default     = []

  validation {
    condition     = alltrue([for e in var.email_addresses : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", e))])
    error_message = "email_addresses must be email addresses."
  }
}

variable "lambda_subscribers" {
  type        = map(string)
  description = "Functions to subscribe, as a map of a stable key to the function ARN. Each gets a lambda:InvokeFunction permission for sns.amazonaws.com limited to this topic."
  default     = {}

  validation {
    condition     = alltrue([for arn in values(var.lambda_subscribers) : can(regex("^arn:aws[a-z-]*:lambda:", arn))])
    error_message = "lambda_subscribers values must be Lambda function ARNs."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags for the topic."
  default     = {}
}
