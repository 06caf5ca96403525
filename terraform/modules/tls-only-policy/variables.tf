variable "actions" {
  type        = list(string)
  description = "The actions denied without TLS: every action of the service (sqs:*, s3:*) or those a resource policy of its type may name (sns:Publish for a topic)."

  validation {
    condition     = length(var.actions) > 0 && alltrue([for a in var.actions : can(regex("^[a-z0-9-]+:([A-Za-z0-9]+|\\*)$", a))])
    error_message = "actions must be one or more service:Action names or service:*."
  }
}

variable "resources" {
  type        = list(string)
  description = "ARNs of the resource the policy is attached to (a bucket: its ARN and <ARN>/*)."

  validation {
    condition     = length(var.resources) > 0 && alltrue([for r in var.resources : startswith(r, "arn:")])
    error_message = "resources must be one or more ARNs."
  }
}

variable "policy_id" {
  type        = string
  description = "The policy's Id, for a policy that is this statement alone. Null: none (a statement merged into another document keeps that document's Id)."
  default     = null
}
