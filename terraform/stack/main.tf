# offload: the whole system for one environment.
#
#   audit queue (+DLQ) -> audit-receiver -> AuditMessages table
#   sms queue   (+DLQ) -> sms-sender     -> SNS SMS or Twilio (idempotency table)
#   DLQ / age alarms   -> alarm topic    -> dlq-alarm-handler -> notifications topic (+ webhook)
#
# Functions, queues and their wiring are maps in locals: adding a function is
# one entry in local.functions (and one in local.queues when a queue triggers
# it). Names are "<name_prefix>-<thing>".

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  prefix    = var.name_prefix
  partition = data.aws_partition.current.partition
  account   = data.aws_caller_identity.current.account_id

  tags = merge(var.tags, {
    "offload:environment" = var.environment
  })

  # Every role the stack creates is bounded by the bootstrap's policy
  # "<name_prefix>-boundary" where the deploy role requires it.
  permissions_boundary_arn = var.permissions_boundary_name == null ? null : "arn:${local.partition}:iam::${local.account}:policy/${var.permissions_boundary_name}"

  # The local runtime runs the functions that carry this tag (docs/development.md).
  local_runtime_tags = var.local_runtime ? { "offload:local-runtime" = "enabled" } : {}
}

# ---------------------------------------------------------------------------
# The stack's KMS key: the SNS topics, the alarm handler's failures queue and
# the functions' environment variables. CloudWatch cannot publish alarms to a
# topic encrypted with the AWS managed aws/sns key, so the topics get a
# customer managed key whose policy lets CloudWatch (for this account only)
# use it. Roles use it through their identity policies (kms:GenerateDataKey
# and kms:Decrypt on this key only).

data "aws_iam_policy_document" "topics_key" {
  statement {
    sid       = "AccountAdministersKeyThroughIAM"
    actions   = ["kms:*"]
    resources = ["*"] # In a key policy "*" is this key.

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account}:root"]
    }
  }

  statement {
    sid       = "CloudWatchAlarmsPublishToEncryptedTopics"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

resource "aws_kms_key" "topics" {
  description             = "${local.prefix}: SNS topics, alarm handler failures queue, function environments"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_deletion_window_days
  policy                  = data.aws_iam_policy_document.topics_key.json

  tags = local.tags
}

resource "aws_kms_alias" "topics" {
  name          = "alias/${local.prefix}-topics"
  target_key_id = aws_kms_key.topics.key_id
}

# ---------------------------------------------------------------------------
# Topics: CloudWatch alarms publish to the alarm topic, the DLQ alarm handler
# subscribes to it and reports to the notifications topic.

module "alarm_topic" {
  source = "../modules/notifications"

  name               = "${local.prefix}-alarms"
  display_name       = "${local.prefix} alarms"
  kms_key_arn        = aws_kms_key.topics.arn
  publisher_services = ["cloudwatch.amazonaws.com"]
  email_addresses    = var.alarm_email_addresses
  lambda_subscribers = {
    "dlq-alarm-handler" = module.function["dlq-alarm-handler"].function_arn
  }

  tags = local.tags
}

module "notifications_topic" {
  source = "../modules/notifications"

  name            = "${local.prefix}-notifications"
  display_name    = "${local.prefix} notifications"
  kms_key_arn     = aws_kms_key.topics.arn
  email_addresses = var.notification_email_addresses

  tags = local.tags
}

# ---------------------------------------------------------------------------
# Secrets: containers only. Values are put with
#   aws secretsmanager put-secret-value --secret-id <arn> --secret-string ...
# so they never pass through variables, plans or state.

module "twilio_secret" {
  source = "../modules/secret"

  name                    = "${local.prefix}/twilio"
  description             = "Twilio credentials of ${local.prefix}-sms-sender: JSON {\"account_sid\": \"...\", \"auth_token\": \"...\", \"from\": \"+1...\"} (or messaging_service_sid instead of from). Set outside Terraform."
  recovery_window_in_days = var.secret_recovery_window_days

  tags = local.tags
}

module "webhook_secret" {
  source = "../modules/secret"

  name                    = "${local.prefix}/dlq-webhook"
  description             = "Slack-compatible webhook URL (plain string) of ${local.prefix}-dlq-alarm-handler. Optional: without a value the handler notifies through the notifications topic only. Set outside Terraform."
  recovery_window_in_days = var.secret_recovery_window_days

  tags = local.tags
}

# ---------------------------------------------------------------------------
# Tables.

module "audit_table" {
  source = "../modules/table"

  # The article's table and schema (docs/architecture.md §4).
  name      = "${local.prefix}-AuditMessages"
  hash_key  = { name = "messageId", type = "S" }
  range_key = { name = "auditTime", type = "S" }

  point_in_time_recovery = var.point_in_time_recovery
  deletion_protection    = var.deletion_protection

  tags = local.tags
}

# One idempotency table per function that guards a side effect, the same
# layout for both: one item per key, expiring through TTL (epoch seconds), the
# attribute names pkg/idempotency's defaults. sms-sender: one item per SMS
# request id. dlq-alarm-handler: one per alarm state change it reported, so
# that duplicate SNS deliveries notify once.
module "idempotency_table" {
  source   = "../modules/table"
  for_each = local.idempotency_tables

  name          = each.value
  hash_key      = { name = "id", type = "S" }
  ttl_attribute = "expires_at"

  point_in_time_recovery = var.point_in_time_recovery
  deletion_protection    = var.deletion_protection

  tags = local.tags
}

locals {
  idempotency_tables = {
    "sms-sender"        = "${local.prefix}-sms-idempotency"
    "dlq-alarm-handler" = "${local.prefix}-dlq-alarm-handler-idempotency"
  }
}

# The tables' addresses before they were one module: a deployed stack keeps
# its tables (and their items).
moved {
  from = module.idempotency_table
  to   = module.idempotency_table["sms-sender"]
}

moved {
  from = module.alarm_dedupe_table
  to   = module.idempotency_table["dlq-alarm-handler"]
}
