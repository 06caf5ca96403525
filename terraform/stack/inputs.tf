# The two inputs each environment root gives the stack itself: its name
# (environments/<env>/main.tf) and where the function packages are
# (environments/_shared/root.tf defaults it). Every other variable is a
# setting in variables.tf, which the roots link as their own (one file
# declares each setting: environments/_shared/variables.tf is a link to it).

variable "environment" {
  type        = string
  description = "Environment name (local, dev, staging, prod): the functions' OFFLOAD_ENV and the offload:environment tag."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,15}$", var.environment))
    error_message = "environment must be 2-16 lowercase letters, digits and '-', starting with a letter."
  }
}

variable "dist_dir" {
  type        = string
  description = "Directory holding the function packages <folder>.zip (make build writes them to dist/)."
}
