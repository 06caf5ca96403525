output "topic_arn" {
  description = "ARN of the topic."
  value       = aws_sns_topic.this.arn
}

output "topic_name" {
  description = "Name of the topic."
  value       = aws_sns_topic.this.name
}

output "lambda_subscription_arns" {
  description = "Subscription ARN per lambda_subscribers key."
  value       = { for k, s in aws_sns_topic_subscription.lambda : k => s.arn }
}

output "email_subscription_arns" {
  description = "Subscription ARN per email address (\"pending confirmation\" until confirmed)."
  value       = { for k, s in aws_sns_topic_subscription.email : k => s.arn }
}
