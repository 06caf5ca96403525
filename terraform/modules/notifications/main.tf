# An SNS topic for notifications (the alarm topic, or the topic on-call reads),
# with a TLS-only topic policy, the AWS services allowed to publish to it,
# email subscriptions, and Lambda subscribers with their invoke permission
# limited to this topic (SourceArn).

data "aws_caller_identity" "current" {}

resource "aws_sns_topic" "this" {
  name              = var.name
  display_name      = var.display_name
  kms_master_key_id = var.kms_key_arn

  tags = var.tags
}

data "aws_iam_policy_document" "this" {
  policy_id = "${var.name}-policy"
  # Deny without TLS (modules/tls-only-policy), after the statement below.
  override_policy_documents = [module.tls_only.json]

  # Services such as CloudWatch alarms publish as a service principal; only on
  # behalf of this account.
  dynamic "statement" {
    for_each = length(var.publisher_services) == 0 ? [] : [var.publisher_services]
    content {
      sid       = "AllowServicePublish"
      actions   = ["sns:Publish"]
      resources = [aws_sns_topic.this.arn]

      principals {
        type        = "Service"
        identifiers = statement.value
      }

      condition {
        test     = "StringEquals"
        variable = "aws:SourceAccount"
        values   = [data.aws_caller_identity.current.account_id]
      }
    }
  }
}

module "tls_only" {
  source = "../tls-only-policy"

  actions   = ["sns:Publish"]
  resources = [aws_sns_topic.this.arn]
}

resource "aws_sns_topic_policy" "this" {
  arn    = aws_sns_topic.this.arn
  policy = data.aws_iam_policy_document.this.json
}

resource "aws_sns_topic_subscription" "email" {
  for_each = toset(var.email_addresses)

  topic_arn = aws_sns_topic.this.arn
  protocol  = "email"
  endpoint  = each.value
}

resource "aws_lambda_permission" "this" {
  for_each = var.lambda_subscribers

  statement_id  = "AllowInvokeFromSNS-${var.name}"
  action        = "lambda:InvokeFunction"
  function_name = each.value
  principal     = "sns.amazonaws.com"
  source_arn    = aws_sns_topic.this.arn
}

resource "aws_sns_topic_subscription" "lambda" {
  for_each = var.lambda_subscribers

  topic_arn = aws_sns_topic.this.arn
  protocol  = "lambda"
  endpoint  = each.value

  # SNS may deliver as soon as the subscription exists.
  depends_on = [aws_lambda_permission.this]
}
