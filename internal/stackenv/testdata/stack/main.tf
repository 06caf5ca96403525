variable "region" {}

variable "flag" {
  type    = string
  default = null
}

locals {
  queues   = { a = { consumer = "one", env = "ONE" } }
  consumed = { for q, d in local.queues : d.consumer => q }
  functions = {
    one = { environment = { TABLE = aws_dynamodb_table.t.name } }
    two = { environment = { TOPIC = module.topic.arn, REGION = var.region } }
  }
}

module "function" {
  source   = "../fn"
  for_each = local.functions

  environment_variables = merge(
    each.value.environment,
    each.key == "two" && var.flag != null ? { FLAG = var.flag } : {},
    { for f, q in local.consumed : "${local.queues[q].env}_URL" => module.queue[q].url if f == each.key },
  )
}
