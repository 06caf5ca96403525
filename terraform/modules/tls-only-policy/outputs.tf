output "json" {
  description = "The policy document (JSON): a resource's policy, or one of source_policy_documents / override_policy_documents of an aws_iam_policy_document with the resource's own statements."
  value       = data.aws_iam_policy_document.this.json
}
