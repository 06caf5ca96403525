# The Terraform state bucket. Every environment keeps its state at
# <state_key_prefix>/<env>.tfstate and locks it with a .tflock object next to
# it (use_lockfile = true: no DynamoDB table).

resource "aws_s3_bucket" "state" {
  bucket        = local.state_bucket
  force_destroy = var.state_bucket_force_destroy
}

resource "aws_s3_bucket_ownership_controls" "state" {
  bucket = aws_s3_bucket.state.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "state" {
  bucket = aws_s3_bucket.state.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

# Versioning is the undo of a bad apply: any earlier state can be restored.
resource "aws_s3_bucket_versioning" "state" {
  bucket = aws_s3_bucket.state.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "state" {
  bucket = aws_s3_bucket.state.id

  rule {
    id     = "expire-old-state-versions"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_state_retention_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  depends_on = [aws_s3_bucket_versioning.state]
}

# tfsec:ignore:aws-s3-encryption-customer-key -- the S3 backend writes every state and lock object with encrypt = true, which requests SSE-S3 (AES256) per object; a bucket-default KMS key would not apply to them. Who can read state is decided by IAM: each role may read only its own environment's key.
resource "aws_s3_bucket_server_side_encryption_configuration" "state" {
  bucket = aws_s3_bucket.state.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

module "state_bucket_tls_only" {
  source = "../modules/tls-only-policy"

  actions   = ["s3:*"]
  resources = [aws_s3_bucket.state.arn, "${aws_s3_bucket.state.arn}/*"]
}

data "aws_iam_policy_document" "state_bucket" {
  # Deny without TLS first (modules/tls-only-policy), then this one.
  source_policy_documents = [module.state_bucket_tls_only.json]

  statement {
    sid       = "DenyUnencryptedStateWrites"
    effect    = "Deny"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.state.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    # Backends with encrypt = true always send the header.
    condition {
      test     = "Null"
      variable = "s3:x-amz-server-side-encryption"
      values   = ["true"]
    }
  }
}

resource "aws_s3_bucket_policy" "state" {
  bucket = aws_s3_bucket.state.id
  policy = data.aws_iam_policy_document.state_bucket.json

  # S3 rejects a bucket policy while the public access block is being set.
  depends_on = [aws_s3_bucket_public_access_block.state]
}
