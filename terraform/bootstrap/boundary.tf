# The permissions boundary of every role an environment's stack creates
# ("<name_prefix>-boundary"; the stack's permissions_boundary_name).
#
# A boundary caps what a role can do whatever its own policies say: an action
# is allowed only if both the role's policies and the boundary allow it. This
# one allows what the stack's functions may ever need — their data-plane
# actions on this environment's <name_prefix>-* resources, their logs, X-Ray,
# and the environment's KMS key — and nothing in IAM or STS. The deploy role
# can create and change <name_prefix>-* roles only with this boundary on them
# (iam.tf), cannot remove a boundary and cannot edit this policy, so a role it
# creates with an inline *:* and passes to a function still cannot reach IAM,
# another environment, or anything outside this list.

locals {
  boundary_arn = { for env, e in var.environments : env => "arn:${local.partition}:iam::${local.account}:policy/${e.name_prefix}-boundary" }

  # The IAM actions that give a role permissions or a boundary: each carries
  # the role's (new) boundary in iam:PermissionsBoundary.
  bounded_role_actions = [
    "iam:CreateRole", "iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:AttachRolePolicy", "iam:DetachRolePolicy",
    "iam:PutRolePermissionsBoundary",
  ]
}

data "aws_iam_policy_document" "boundary" {
  for_each = var.environments

  statement {
    sid = "Queues"
    actions = [
      "sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility",
      "sqs:GetQueueAttributes", "sqs:GetQueueUrl",
    ]
    resources = ["arn:${local.partition}:sqs:${local.region}:${local.account}:${each.value.name_prefix}-*"]
  }

  statement {
    sid = "Tables"
    actions = [
      "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Query",
      "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem", "dynamodb:ConditionCheckItem",
    ]
    resources = [
      "arn:${local.partition}:dynamodb:${local.region}:${local.account}:table/${each.value.name_prefix}-*",
      "arn:${local.partition}:dynamodb:${local.region}:${local.account}:table/${each.value.name_prefix}-*/index/*",
    ]
  }

  statement {
    sid       = "Topics"
    actions   = ["sns:Publish"]
    resources = ["arn:${local.partition}:sns:${local.region}:${local.account}:${each.value.name_prefix}-*"]
  }

  statement {
    sid       = "Functions"
    actions   = ["lambda:InvokeFunction"]
    resources = ["arn:${local.partition}:lambda:${local.region}:${local.account}:function:${each.value.name_prefix}-*"]
  }

  statement {
    sid       = "SecretValues"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = ["arn:${local.partition}:secretsmanager:${local.region}:${local.account}:secret:${each.value.name_prefix}/*"]
  }

  statement {
    sid     = "FunctionLogs"
    actions = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]
    resources = [
      "arn:${local.partition}:logs:${local.region}:${local.account}:log-group:/aws/lambda/${each.value.name_prefix}-*",
      "arn:${local.partition}:logs:${local.region}:${local.account}:log-group:/aws/lambda/${each.value.name_prefix}-*:*",
    ]
  }

  # tfsec:ignore:aws-iam-no-policy-wildcards -- an SMS to a phone number (sms-sender with sms_provider = "sns") has no resource ARN: AWS accepts only "*". The stack's sms_publish policy denies every topic and endpoint ARN to that role; topics are still held to <prefix>-* by the Topics statement for every other role's own policy.
  statement {
    sid       = "SMSToPhoneNumbers"
    actions   = ["sns:Publish"]
    resources = ["*"]
  }

  # tfsec:ignore:aws-iam-no-policy-wildcards -- X-Ray's PutTraceSegments and PutTelemetryRecords have no resource-level permission: "*" is the only form AWS accepts, and they only write trace data.
  statement {
    sid       = "Traces"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }

  # The stack's key has a random id: it is recognised by the
  # offload:environment tag the deploy role must give it at creation.
  statement {
    sid       = "EnvironmentKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = ["arn:${local.partition}:kms:${local.region}:${local.account}:key/*"]

    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/offload:environment"
      values   = [each.key]
    }
  }

  # Redundant with the allow-list above (nothing here allows IAM or STS);
  # explicit so that no later edit of this policy can open them by accident.
  statement {
    sid       = "NoIdentityChanges"
    effect    = "Deny"
    actions   = ["iam:*", "sts:*", "organizations:*", "account:*"]
    resources = ["*"]
  }
}

resource "aws_iam_policy" "boundary" {
  for_each = var.environments

  name        = "${each.value.name_prefix}-boundary"
  description = "Permissions boundary of every role of offload ${each.key}: the functions' data-plane actions on ${each.value.name_prefix}-* resources, logs, X-Ray, the environment's key; nothing in IAM."
  policy      = data.aws_iam_policy_document.boundary[each.key].json
}
