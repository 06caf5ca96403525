# An encrypted alarm topic that CloudWatch may publish to, with an e-mail
# subscriber (each address confirms once).
provider "aws" {}

resource "aws_kms_key" "topics" {
  description         = "example topic encryption"
  enable_key_rotation = true
}

module "alarm_topic" {
  source = "../.."

  name               = "example-alarms"
  kms_key_arn        = aws_kms_key.topics.arn
  publisher_services = ["cloudwatch.amazonaws.com"]
  email_addresses    = ["oncall@example.com"]
}

output "topic_arn" {
  description = "Use as alarm_actions / ok_actions of the queue module."
  value       = module.alarm_topic.topic_arn
}
