variable "name" {
  type        = string
  description = "Table name."

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]{3,255}$", var.name))
    error_message = "name must be 3-255 characters of letters, digits, '_', '-' and '.'."
  }
}

variable "hash_key" {
  type = object({
    name = string
    type = string
  })
  description = "Partition key: attribute name and type (S, N or B)."

  validation {
    condition     = contains(["S", "N", "B"], var.hash_key.type) && length(var.hash_key.name) > 0
    error_message = "hash_key needs a name and a type of S, N or B."
  }
}

variable "range_key" {
  type = object({
    name = string
    type = string
  })
  description = "Sort key: attribute name and type (S, N or B), or null for a table without one."
  default     = null

  validation {
    condition     = var.range_key == null || try(contains(["S", "N", "B"], var.range_key.type) && length(var.range_key.name) > 0, false)
    error_message = "range_key needs a name and a type of S, N or B."
  }

  validation {
    condition     = var.range_key == null || try(var.range_key.name != var.hash_key.name, true)
    error_message = "range_key must differ from hash_key."
  }
}

variable "ttl_attribute" {
  type        = string
  description = "Attribute holding each item's expiry time (epoch seconds, type N); DynamoDB deletes expired items. Null disables TTL."
  default     = null

  validation {
    condition     = var.ttl_attribute == null || try(length(var.ttl_attribute) > 0, false)
    error_message = "ttl_attribute must be a non-empty attribute name or null."
  }
}

variable "point_in_time_recovery" {
  type        = bool
  description = "Continuous backups: restore to any second of the last 35 days."
  default     = true
}

variable "deletion_protection" {
  type        = bool
  description = "Refuse DeleteTable (and so terraform destroy) until this is turned off. On in production."
  default     = true
}

variable "kms_key_arn" {
  type        = string
  description = "Customer managed KMS key for server-side encryption. Null uses the AWS managed key aws/dynamodb."
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags for the table."
  default     = {}
}
