output "secret_arn" {
  description = "ARN of the secret (IAM statements use it)."
  value       = aws_secretsmanager_secret.this.arn
}

output "secret_name" {
  description = "Name of the secret."
  value       = aws_secretsmanager_secret.this.name
}
