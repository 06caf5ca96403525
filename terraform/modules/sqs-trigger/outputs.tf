output "event_source_mapping_uuid" {
  description = "UUID of the event source mapping."
  value       = aws_lambda_event_source_mapping.this.uuid
}

output "event_source_mapping_arn" {
  description = "ARN of the event source mapping."
  value       = aws_lambda_event_source_mapping.this.arn
}

output "policy_name" {
  description = "Name of the inline policy added to the function's role."
  value       = aws_iam_role_policy.this.name
}
