# The whole pattern: queue + DLQ + alarm, a Go function, and the event source
# mapping between them with partial batch responses and a concurrency cap.
# The trigger module adds the receive/delete/visibility permissions on the
# queue (and the DLQ send the batch processor needs) to the function's role.
provider "aws" {}

variable "package_path" {
  description = "The function's zip, as make build writes it."
  type        = string
  default     = "../../../../../dist/audit-receiver.zip"
}

module "queue" {
  source = "../../../queue"

  name                       = "example-audit"
  visibility_timeout_seconds = 60 # 6x the function's timeout
}

module "function" {
  source = "../../../go-function"

  name         = "example-audit-receiver"
  package_path = var.package_path
  timeout      = 10
  environment_variables = {
    DLQ_URL = module.queue.dlq_url
  }
}

module "trigger" {
  source = "../.."

  function = module.function
  queue    = module.queue

  batch_size          = 10
  maximum_concurrency = 5
}

output "event_source_mapping_uuid" {
  description = "The mapping (ReportBatchItemFailures on)."
  value       = module.trigger.event_source_mapping_uuid
}
