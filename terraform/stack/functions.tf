# The Lambda functions. Adding one: its folder and description in
# local.function_descriptions, its environment and statements in
# local.functions, and (when a queue triggers it) a queue in local.queues.

locals {
  function_descriptions = {
    "audit-receiver"    = "Stores audit messages from the audit queue in the AuditMessages table, once per message."
    "sms-sender"        = "Sends SMS requests from the SMS queue through the configured provider, at most once per request."
    "dlq-alarm-handler" = "Reports dead-lettered messages named by CloudWatch DLQ alarms to the notifications topic and webhook."
  }

  function_settings = {
    for f in keys(local.function_descriptions) : f => {
      timeout              = coalesce(try(var.function_overrides[f].timeout_seconds, null), var.function_timeout_seconds)
      memory_mb            = coalesce(try(var.function_overrides[f].memory_mb, null), var.function_memory_mb)
      reserved_concurrency = try(var.function_overrides[f].reserved_concurrency, null)
    }
  }

  # Which queue's DLQ each consumer dead-letters permanent failures to.
  consumed_queue = { for q, d in local.queues : d.consumer => q }

  queue_key_statements = var.queue_kms_key_arn == null ? [] : [{
    sid       = "DecryptDeadLetters"
    actions   = ["kms:Decrypt"]
    resources = [var.queue_kms_key_arn]
  }]

  # Environment (docs/development.md) and exact permissions of each function.
  # Logs and X-Ray come from the go-function module; consuming the trigger
  # queue and sending to its DLQ from the sqs-trigger module.
  functions = {
    "audit-receiver" = {
      environment = {
        AUDIT_TABLE_NAME = module.audit_table.table_name
      }
      # GetItem: the store's consistent read after a failed condition that
      # returned no item (pkg/audit, Store.Put).
      statements = [{
        sid       = "PutAuditItems"
        actions   = ["dynamodb:PutItem", "dynamodb:GetItem"]
        resources = [module.audit_table.table_arn]
      }]
    }

    "sms-sender" = {
      environment = {
        IDEMPOTENCY_TABLE_NAME = module.idempotency_table["sms-sender"].table_name
        SMS_PROVIDER           = var.sms_provider
        TWILIO_SECRET_ARN      = module.twilio_secret.secret_arn
        # A third of the function timeout (at least 1 s): a record with less
        # than this plus 0.5 s left is not started but retried (pkg/sms).
        SMS_PROVIDER_TIMEOUT = "${max(1, floor(local.function_settings["sms-sender"].timeout / 3))}s"
        # retention.tf: outlives every delivery of the request it guards.
        IDEMPOTENCY_RETENTION = "${local.retention_seconds.sms}s"
      }
      # SNS SMS publishing is in aws_iam_role_policy.sms_publish below.
      statements = concat(
        [{
          sid       = "IdempotencyRecords"
          actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"]
          resources = [module.idempotency_table["sms-sender"].table_arn]
        }],
        var.sms_provider != "twilio" ? [] : [{
          sid       = "ReadTwilioCredentials"
          actions   = ["secretsmanager:GetSecretValue"]
          resources = [module.twilio_secret.secret_arn]
        }],
      )
    }

    "dlq-alarm-handler" = {
      environment = {
        NOTIFICATIONS_TOPIC_ARN = module.notifications_topic.topic_arn
        WEBHOOK_SECRET_ARN      = module.webhook_secret.secret_arn
        IDEMPOTENCY_TABLE_NAME  = module.idempotency_table["dlq-alarm-handler"].table_name
        # Only these are sampled; alarms on live queues are reported as they are.
        DEAD_LETTER_QUEUES = join(",", [for q in keys(local.queues) : module.queue[q].dlq_name])
        # retention.tf: outlives every retry of the alarm event it guards.
        IDEMPOTENCY_RETENTION = "${local.retention_seconds.alarm}s"
      }
      statements = concat(
        [
          {
            sid       = "DedupeAlarmReports"
            actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"]
            resources = [module.idempotency_table["dlq-alarm-handler"].table_arn]
          },
          {
            # Sample without consuming: receive, then visibility back to 0.
            # GetQueueUrl: the alarm names the queue only (QueueName dimension).
            sid       = "SampleDeadLetterQueues"
            actions   = ["sqs:GetQueueUrl", "sqs:GetQueueAttributes", "sqs:ReceiveMessage", "sqs:ChangeMessageVisibility"]
            resources = [for q in keys(local.queues) : module.queue[q].dlq_arn]
          },
          {
            sid       = "PublishNotifications"
            actions   = ["sns:Publish"]
            resources = [module.notifications_topic.topic_arn]
          },
          {
            # The on-failure destination (alarm_handler.tf): Lambda sends
            # the failed event as this role.
            sid       = "SendFailedEvents"
            actions   = ["sqs:SendMessage"]
            resources = [local.alarm_handler_failures_arn]
          },
          {
            # The notifications topic and the failures queue are encrypted
            # with the stack's key.
            sid       = "EncryptNotifications"
            actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
            resources = [aws_kms_key.topics.arn]
          },
          {
            sid       = "ReadWebhookURL"
            actions   = ["secretsmanager:GetSecretValue"]
            resources = [module.webhook_secret.secret_arn]
          },
        ],
        local.queue_key_statements,
      )
    }
  }
}

module "function" {
  source   = "../modules/go-function"
  for_each = local.functions

  name         = "${local.prefix}-${each.key}"
  description  = local.function_descriptions[each.key]
  package_path = "${var.dist_dir}/${each.key}.zip"

  timeout              = local.function_settings[each.key].timeout
  memory_size          = local.function_settings[each.key].memory_mb
  reserved_concurrency = local.function_settings[each.key].reserved_concurrency

  log_level          = var.log_level
  log_retention_days = var.log_retention_days

  environment_variables = merge(
    { OFFLOAD_ENV = var.environment },
    each.value.environment,
    # make chaos points the sms-sender at a local Twilio-compatible fake.
    each.key == "sms-sender" && var.twilio_api_url != null ? { TWILIO_API_URL = var.twilio_api_url } : {},
    { for f, q in local.consumed_queue : "DLQ_URL" => module.queue[q].dlq_url if f == each.key },
    # The consumer's retry budget (queues.tf) and the DLQ's size limit, which
    # the batch processor trims dead letters to.
    merge([for f, q in local.consumed_queue : {
      "${local.queue_settings[q].backoff_env}_BASE" = "${local.queue_settings[q].backoff_base_seconds}s"
      "${local.queue_settings[q].backoff_env}_MAX"  = "${local.queue_settings[q].backoff_max_seconds}s"
    } if f == each.key]...),
    { for f, q in local.consumed_queue : "DLQ_MAX_MESSAGE_BYTES" => tostring(module.queue[q].queue_max_message_size) if f == each.key },
    # The redrive policy's maxReceiveCount: the batch processor dead-letters a
    # record still failing on that receive with its reason (pkg/batch).
    { for f, q in local.consumed_queue : "MAX_RECEIVE_COUNT" => tostring(local.queue_settings[q].max_receive_count) if f == each.key },
  )

  policy_statements = each.value.statements

  # The environment encrypted with the stack's key (the role gets
  # kms:Decrypt on it); the role under the deploy pipeline's boundary.
  kms_key_arn              = aws_kms_key.topics.arn
  permissions_boundary_arn = local.permissions_boundary_arn

  tags = merge(local.tags, local.local_runtime_tags, {
    "offload:function" = each.key
  })
}

# SMS to phone numbers: AWS evaluates sns:Publish to a phone number against
# resource "*" (there is no phone-number ARN and no condition key for the
# destination), so the allow must be "*". The deny keeps it to phone numbers:
# every topic and platform endpoint ARN is refused. This is the stack's second
# and last "*" resource after X-Ray.
data "aws_iam_policy_document" "sms_publish" {
  statement {
    sid     = "PublishSMSToPhoneNumbers"
    actions = ["sns:Publish"]
    # tfsec:ignore:aws-iam-no-policy-wildcards -- SMS to a phone number has no resource ARN: AWS requires "*"; the Deny below excludes every topic and endpoint.
    resources = ["*"]
  }

  statement {
    sid       = "DenyPublishToTopicsAndEndpoints"
    effect    = "Deny"
    actions   = ["sns:Publish"]
    resources = ["arn:${local.partition}:sns:*:*:*"]
  }
}

resource "aws_iam_role_policy" "sms_publish" {
  count = var.sms_provider == "sns" ? 1 : 0

  name   = "sms-publish"
  role   = module.function["sms-sender"].role_name
  policy = data.aws_iam_policy_document.sms_publish.json
}
