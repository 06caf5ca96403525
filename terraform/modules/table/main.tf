# A DynamoDB table billed on demand, encrypted, with point-in-time recovery,
# an optional TTL attribute and deletion protection.

locals {
  # Key attributes are the only ones a DynamoDB table declares.
  key_attributes = concat(
    [var.hash_key],
    var.range_key == null ? [] : [var.range_key],
  )
}

resource "aws_dynamodb_table" "this" {
  name         = var.name
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = var.hash_key.name
  range_key    = var.range_key == null ? null : var.range_key.name

  dynamic "attribute" {
    for_each = local.key_attributes
    content {
      name = attribute.value.name
      type = attribute.value.type
    }
  }

  # Without kms_key_arn: the AWS managed key (aws/dynamodb), visible in
  # CloudTrail, instead of the invisible AWS owned key.
  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  point_in_time_recovery {
    enabled = var.point_in_time_recovery
  }

  dynamic "ttl" {
    for_each = var.ttl_attribute == null ? [] : [var.ttl_attribute]
    content {
      attribute_name = ttl.value
      enabled        = true
    }
  }

  deletion_protection_enabled = var.deletion_protection

  tags = var.tags
}
