output "table_name" {
  description = "Name of the table."
  value       = aws_dynamodb_table.this.name
}

output "table_arn" {
  description = "ARN of the table (IAM statements on items use it)."
  value       = aws_dynamodb_table.this.arn
}

output "table_hash_key" {
  description = "Partition key attribute name."
  value       = aws_dynamodb_table.this.hash_key
}

output "table_range_key" {
  description = "Sort key attribute name, or null."
  value       = var.range_key == null ? null : aws_dynamodb_table.this.range_key
}

output "table_ttl_attribute" {
  description = "TTL attribute name, or null when TTL is off."
  value       = var.ttl_attribute
}
