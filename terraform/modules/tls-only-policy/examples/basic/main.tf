# The deny every offload resource policy carries, for one queue: set the
# output as the queue's policy (aws_sqs_queue's policy argument), or merge it
# into a document with the resource's own statements (source_policy_documents
# or override_policy_documents, as the notifications module does).
#
#   terraform init && terraform plan
provider "aws" {}

data "aws_caller_identity" "current" {}

module "tls_only" {
  source = "../.."

  actions   = ["sqs:*"]
  resources = ["arn:aws:sqs:us-east-1:${data.aws_caller_identity.current.account_id}:example-jobs"]
}

output "policy" {
  description = "The queue policy: the TLS-only deny."
  value       = module.tls_only.json
}
