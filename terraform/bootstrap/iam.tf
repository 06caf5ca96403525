# The GitHub roles: per environment a deploy role (plan, apply, outputs, the
# Terratest suites) and a read-only plan role.
#
# Trust: GitHub's OIDC token, audience sts.amazonaws.com, and a subject that
# names the environment AND the workflow file and ref the job runs from:
#   repo:<o>/<r>:environment:<env>:job_workflow_ref:<o>/<r>/.github/workflows/deploy.yml@<ref>
# GitHub writes that subject only once the repository's OIDC subject template
# includes job_workflow_ref (github_setup_commands sets it). A branch that
# declares `environment: prod` in its own workflow gets a subject with its
# own ref (or another file) and is refused; the refs are each environment's
# deploy_refs (main; release tags v* for staging and prod), the same refs the
# GitHub environment's deployment policy admits.
#
# Permissions: the actions Terraform calls to refresh, create, update and
# delete the stack (terraform/stack), plus what the Terratest suites do with
# the deployed resources, each on the environment's own name-prefix ARNs.
# AWS accepts only "*" for a few actions (marked "*" below, README lists why).
# Every role a deploy role creates or changes must carry the environment's
# permissions boundary (boundary.tf), so no role it can pass to a function is
# worth more than the boundary.

locals {
  roles = merge(
    {
      for env, e in var.environments : "deploy-${env}" => {
        env  = env
        kind = "deploy"
        subjects = [
          for ref in e.deploy_refs : "repo:${var.github_repository}:environment:${env}:job_workflow_ref:${var.github_repository}/${var.deploy_workflow}@${ref}"
        ]
      }
    },
    {
      for env, e in var.environments : "plan-${env}" => {
        env  = env
        kind = "plan"
        subjects = [
          for ref in concat(e.deploy_refs, e.plan_pull_requests ? ["refs/pull/*/merge"] : []) :
          "repo:${var.github_repository}:environment:${env}-plan:job_workflow_ref:${var.github_repository}/${var.deploy_workflow}@${ref}"
        ]
      } if e.plan_role
    },
  )

  # Every resource family of the stack, per environment: the ARNs it may
  # touch, the read actions (refresh, plan), the write actions (apply,
  # destroy) and the data actions (the Terratest suites against a deployment).
  families = {
    for env, e in var.environments : env => [
      {
        sid       = "Queues"
        resources = ["arn:${local.partition}:sqs:${local.region}:${local.account}:${e.name_prefix}-*"]
        read      = ["sqs:GetQueueAttributes", "sqs:ListQueueTags"]
        write     = ["sqs:CreateQueue", "sqs:DeleteQueue", "sqs:SetQueueAttributes", "sqs:TagQueue", "sqs:UntagQueue"]
        data = [
          "sqs:GetQueueUrl", "sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:PurgeQueue",
          "sqs:StartMessageMoveTask", "sqs:ListMessageMoveTasks", "sqs:CancelMessageMoveTask",
        ]
        conditions = []
      },
      {
        sid       = "Tables"
        resources = ["arn:${local.partition}:dynamodb:${local.region}:${local.account}:table/${e.name_prefix}-*"]
        read      = ["dynamodb:DescribeTable", "dynamodb:DescribeContinuousBackups", "dynamodb:DescribeTimeToLive", "dynamodb:ListTagsOfResource"]
        write = [
          "dynamodb:CreateTable", "dynamodb:DeleteTable", "dynamodb:UpdateTable", "dynamodb:UpdateContinuousBackups",
          "dynamodb:UpdateTimeToLive", "dynamodb:TagResource", "dynamodb:UntagResource",
        ]
        data = [
          "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Query",
          "dynamodb:Scan", "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem",
        ]
        conditions = []
      },
      {
        sid       = "Functions"
        resources = ["arn:${local.partition}:lambda:${local.region}:${local.account}:function:${e.name_prefix}-*"]
        read = [
          "lambda:GetFunction", "lambda:GetFunctionCodeSigningConfig",
          "lambda:GetFunctionConcurrency", "lambda:ListVersionsByFunction", "lambda:GetPolicy", "lambda:ListTags",
          "lambda:GetFunctionEventInvokeConfig",
        ]
        write = [
          "lambda:CreateFunction", "lambda:DeleteFunction", "lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration",
          "lambda:PutFunctionConcurrency", "lambda:DeleteFunctionConcurrency", "lambda:TagResource", "lambda:UntagResource",
          "lambda:AddPermission", "lambda:RemovePermission",
          # The alarm handler's retries and on-failure destination.
          "lambda:PutFunctionEventInvokeConfig", "lambda:UpdateFunctionEventInvokeConfig", "lambda:DeleteFunctionEventInvokeConfig",
        ]
        data       = ["lambda:InvokeFunction"]
        conditions = []
      },
      {
        # Mapping ARNs carry a random UUID; changes are tied to this
        # environment's functions by the lambda:FunctionArn condition.
        sid        = "ChangeEventSourceMappings"
        resources  = ["arn:${local.partition}:lambda:${local.region}:${local.account}:event-source-mapping:*"]
        read       = []
        write      = ["lambda:UpdateEventSourceMapping", "lambda:DeleteEventSourceMapping"]
        data       = []
        conditions = [{ test = "ArnLike", variable = "lambda:FunctionArn", values = ["arn:${local.partition}:lambda:${local.region}:${local.account}:function:${e.name_prefix}-*"] }]
      },
      {
        sid        = "ReadEventSourceMappings"
        resources  = ["arn:${local.partition}:lambda:${local.region}:${local.account}:event-source-mapping:*"]
        read       = ["lambda:GetEventSourceMapping", "lambda:ListTags"]
        write      = ["lambda:TagResource", "lambda:UntagResource"]
        data       = []
        conditions = []
      },
      {
        # "*": CreateEventSourceMapping has no resource-level permission; the
        # condition limits it to this environment's functions.
        sid        = "CreateEventSourceMappings"
        resources  = ["*"]
        read       = []
        write      = ["lambda:CreateEventSourceMapping"]
        data       = []
        conditions = [{ test = "ArnLike", variable = "lambda:FunctionArn", values = ["arn:${local.partition}:lambda:${local.region}:${local.account}:function:${e.name_prefix}-*"] }]
      },
      {
        # The functions' execution roles: what does not change a role's
        # permissions (IAM has no iam:PermissionsBoundary key for these).
        sid       = "FunctionRoles"
        resources = ["arn:${local.partition}:iam::${local.account}:role/${e.name_prefix}-*"]
        read      = ["iam:GetRole", "iam:GetRolePolicy", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies", "iam:ListInstanceProfilesForRole"]
        write = [
          "iam:DeleteRole", "iam:UpdateRole", "iam:UpdateRoleDescription", "iam:UpdateAssumeRolePolicy",
          "iam:TagRole", "iam:UntagRole",
        ]
        data       = []
        conditions = []
      },
      {
        # Creating a role and changing its policies or boundary: only when
        # the role carries (or is given) this environment's boundary, so a
        # role with an inline *:* is still worth no more than the boundary.
        sid       = "BoundedFunctionRoles"
        resources = ["arn:${local.partition}:iam::${local.account}:role/${e.name_prefix}-*"]
        read      = []
        write = [
          "iam:CreateRole", "iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:AttachRolePolicy", "iam:DetachRolePolicy",
          "iam:PutRolePermissionsBoundary",
        ]
        data       = []
        conditions = [{ test = "StringEquals", variable = "iam:PermissionsBoundary", values = [local.boundary_arn[env]] }]
      },
      {
        sid        = "PassFunctionRolesToLambda"
        resources  = ["arn:${local.partition}:iam::${local.account}:role/${e.name_prefix}-*"]
        read       = []
        write      = ["iam:PassRole"]
        data       = []
        conditions = [{ test = "StringEquals", variable = "iam:PassedToService", values = ["lambda.amazonaws.com"] }]
      },
      {
        sid       = "FunctionLogGroups"
        resources = ["arn:${local.partition}:logs:${local.region}:${local.account}:log-group:/aws/lambda/${e.name_prefix}-*"]
        read      = ["logs:ListTagsForResource"]
        write = [
          "logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:PutRetentionPolicy", "logs:DeleteRetentionPolicy",
          # TagLogGroup: the older tag-on-create permission CreateLogGroup may still ask for.
          "logs:TagResource", "logs:UntagResource", "logs:TagLogGroup",
        ]
        data       = ["logs:FilterLogEvents", "logs:GetLogEvents", "logs:DescribeLogStreams"]
        conditions = []
      },
      {
        # DescribeLogGroups is authorised on the account's log-group:* only
        # (it lists by name prefix); it reveals names and settings, no events.
        sid        = "DescribeLogGroups"
        resources  = ["arn:${local.partition}:logs:${local.region}:${local.account}:log-group:*"]
        read       = ["logs:DescribeLogGroups"]
        write      = []
        data       = []
        conditions = []
      },
      {
        sid        = "Alarms"
        resources  = ["arn:${local.partition}:cloudwatch:${local.region}:${local.account}:alarm:${e.name_prefix}-*"]
        read       = ["cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource"]
        write      = ["cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms", "cloudwatch:TagResource", "cloudwatch:UntagResource"]
        data       = ["cloudwatch:DescribeAlarmHistory", "cloudwatch:SetAlarmState"]
        conditions = []
      },
      {
        # Dashboard ARNs have no region; the stack's dashboard is named after the prefix itself.
        sid = "Dashboards"
        resources = [
          "arn:${local.partition}:cloudwatch::${local.account}:dashboard/${e.name_prefix}",
          "arn:${local.partition}:cloudwatch::${local.account}:dashboard/${e.name_prefix}-*",
        ]
        read       = ["cloudwatch:GetDashboard"]
        write      = ["cloudwatch:PutDashboard", "cloudwatch:DeleteDashboards"]
        data       = []
        conditions = []
      },
      {
        # Topics and their subscriptions (subscription ARNs are the topic ARN plus an id).
        sid       = "Topics"
        resources = ["arn:${local.partition}:sns:${local.region}:${local.account}:${e.name_prefix}-*"]
        read      = ["sns:GetTopicAttributes", "sns:ListTagsForResource", "sns:ListSubscriptionsByTopic"]
        write = [
          "sns:CreateTopic", "sns:DeleteTopic", "sns:SetTopicAttributes", "sns:TagResource", "sns:UntagResource",
          "sns:Subscribe",
        ]
        data       = ["sns:Publish"]
        conditions = []
      },
      {
        # "*": AWS authorises these subscription actions on "*" only.
        sid        = "Subscriptions"
        resources  = ["*"]
        read       = ["sns:GetSubscriptionAttributes"]
        write      = ["sns:SetSubscriptionAttributes", "sns:Unsubscribe"]
        data       = []
        conditions = []
      },
      {
        # Containers only: no action here reads or writes a secret value.
        sid       = "Secrets"
        resources = ["arn:${local.partition}:secretsmanager:${local.region}:${local.account}:secret:${e.name_prefix}/*"]
        read      = ["secretsmanager:DescribeSecret", "secretsmanager:GetResourcePolicy"]
        write = [
          "secretsmanager:CreateSecret", "secretsmanager:DeleteSecret", "secretsmanager:UpdateSecret",
          "secretsmanager:TagResource", "secretsmanager:UntagResource",
          "secretsmanager:PutResourcePolicy", "secretsmanager:DeleteResourcePolicy",
        ]
        data       = []
        conditions = []
      },
      {
        # The topics' KMS key: its ARN is a random id, so the key is
        # recognised by the stack's offload:environment tag.
        sid       = "EnvironmentKeys"
        resources = ["arn:${local.partition}:kms:${local.region}:${local.account}:key/*"]
        read      = ["kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListResourceTags"]
        write = [
          "kms:PutKeyPolicy", "kms:EnableKeyRotation", "kms:DisableKeyRotation", "kms:UpdateKeyDescription",
          "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion", "kms:UntagResource", "kms:CreateAlias", "kms:DeleteAlias",
          "kms:UpdateAlias",
        ]
        # Encrypt and CreateGrant: Lambda encrypts the functions' environment
        # variables with this key on the deployer's behalf.
        data       = ["kms:GenerateDataKey", "kms:Decrypt", "kms:Encrypt", "kms:CreateGrant"]
        conditions = [{ test = "StringEquals", variable = "aws:ResourceTag/offload:environment", values = [env] }]
      },
      {
        sid        = "EnvironmentKeyAliases"
        resources  = ["arn:${local.partition}:kms:${local.region}:${local.account}:alias/${e.name_prefix}-*"]
        read       = []
        write      = ["kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"]
        data       = []
        conditions = []
      },
      {
        # "*": CreateKey has no resource; the key must be born with this
        # environment's tag (tagging at creation needs kms:TagResource too).
        sid        = "CreateEnvironmentKeys"
        resources  = ["*"]
        read       = []
        write      = ["kms:CreateKey", "kms:TagResource"]
        data       = []
        conditions = [{ test = "StringEquals", variable = "aws:RequestTag/offload:environment", values = [env] }]
      },
      {
        # "*": ListAliases has no resource-level permission (Terraform reads an alias by listing).
        sid        = "ListKeyAliases"
        resources  = ["*"]
        read       = ["kms:ListAliases"]
        write      = []
        data       = []
        conditions = []
      },
      {
        # "*": X-Ray's trace queries have no resource-level permission; the
        # suites read back the traces of the messages they sent.
        sid        = "ReadTraces"
        resources  = ["*"]
        read       = []
        write      = []
        data       = ["xray:GetTraceSummaries", "xray:BatchGetTraces"]
        conditions = []
      },
    ]
  }

  state_object = { for env, e in var.environments : env => "${aws_s3_bucket.state.arn}/${var.state_key_prefix}/${env}.tfstate" }
}

data "aws_iam_policy_document" "trust" {
  for_each = local.roles

  statement {
    sid     = "GitHubActions${title(each.value.kind)}${replace(title(each.value.env), "-", "")}"
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [local.github_oidc_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:aud"
      values   = ["sts.amazonaws.com"]
    }

    # StringLike: a tag pattern (refs/tags/v*) or the pull request refs of
    # a plan role; the other characters match literally.
    condition {
      test     = "StringLike"
      variable = "token.actions.githubusercontent.com:sub"
      values   = each.value.subjects
    }
  }
}

resource "aws_iam_role" "github" {
  for_each = local.roles

  name                 = "${var.role_name_prefix}-${each.key}"
  description          = "GitHub Actions (${var.github_repository}, environment ${each.value.kind == "plan" ? "${each.value.env}-plan" : each.value.env}): ${each.value.kind == "plan" ? "read-only plans of" : "deploys and tests"} offload ${each.value.env}."
  assume_role_policy   = data.aws_iam_policy_document.trust[each.key].json
  max_session_duration = var.max_session_duration
}

# The state: the deploy role reads and writes its own environment's state and
# lock objects; the plan role only reads the state (it plans with -lock=false).
data "aws_iam_policy_document" "state" {
  for_each = local.roles

  statement {
    sid       = "ListStateBucket"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.state.arn]
  }

  statement {
    sid     = "EnvironmentState"
    actions = each.value.kind == "deploy" ? ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"] : ["s3:GetObject"]
    # tfsec:ignore:aws-iam-no-policy-wildcards -- <key>.tfstate* is this environment's state object and the lock (.tflock) and digest objects Terraform keeps next to it.
    resources = ["${local.state_object[each.value.env]}*"]
  }
}

# The stack's resources, split in two policies to stay under IAM's 6 KB
# managed policy size. A deploy role's parts end with its explicit denies.
locals {
  policy_parts = {
    for key, role in local.roles : key => {
      for part, sids in {
        compute = ["Queues", "Tables", "Functions", "ChangeEventSourceMappings", "ReadEventSourceMappings", "CreateEventSourceMappings", "FunctionRoles", "BoundedFunctionRoles", "PassFunctionRolesToLambda"]
        observe = ["FunctionLogGroups", "DescribeLogGroups", "Alarms", "Dashboards", "Topics", "Subscriptions", "Secrets", "EnvironmentKeys", "EnvironmentKeyAliases", "CreateEnvironmentKeys", "ListKeyAliases", "ReadTraces"]
        } : part => concat([
          for f in local.families[role.env] : {
            sid        = f.sid
            effect     = "Allow"
            actions    = role.kind == "deploy" ? concat(f.read, f.write, f.data) : f.read
            resources  = f.resources
            conditions = f.conditions
          } if contains(sids, f.sid) && length(role.kind == "deploy" ? concat(f.read, f.write, f.data) : f.read) > 0
        ],
        role.kind == "deploy" ? local.denies[role.env][part] : [],
      )
    }
  }

  # The deploy roles' explicit denies, per part (they win over any Allow, a
  # later-attached one too).
  denies = {
    for env, e in var.environments : env => {
      compute = [
        # No role change without this environment's boundary, no removing a
        # boundary, no touching the boundary policy itself.
        {
          sid        = "DenyRoleChangesWithoutBoundary"
          effect     = "Deny"
          actions    = local.bounded_role_actions
          resources  = ["*"]
          conditions = [{ test = "StringNotEquals", variable = "iam:PermissionsBoundary", values = [local.boundary_arn[env]] }]
        },
        # Belt and braces for PassFunctionRolesToLambda (and trivy's
        # AWS-0342): no policy attached later can let this role pass any role
        # to another service.
        {
          sid        = "DenyPassingRolesBeyondLambda"
          effect     = "Deny"
          actions    = ["iam:PassRole"]
          resources  = ["*"]
          conditions = [{ test = "StringNotEquals", variable = "iam:PassedToService", values = ["lambda.amazonaws.com"] }]
        },
        {
          sid        = "DenyBoundaryRemoval"
          effect     = "Deny"
          actions    = ["iam:DeleteRolePermissionsBoundary", "iam:DeleteUserPermissionsBoundary"]
          resources  = ["*"]
          conditions = []
        },
        {
          sid    = "DenyBoundaryPolicyChanges"
          effect = "Deny"
          actions = [
            "iam:CreatePolicy", "iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:DeletePolicy",
            "iam:DeletePolicyVersion", "iam:TagPolicy", "iam:UntagPolicy",
          ]
          resources  = [for other in keys(var.environments) : local.boundary_arn[other]]
          conditions = []
        },
      ]
      observe = [
        # kms:TagResource must be allowed on "*" to tag a key as it is
        # created. This keeps it from pulling any existing key that is not
        # already this environment's (another environment's, or an untagged
        # one) into its scope. At creation the request names no key ARN, so
        # the Deny does not apply.
        {
          sid        = "KeepOtherKeysOutOfScope"
          effect     = "Deny"
          actions    = ["kms:TagResource", "kms:UntagResource"]
          resources  = ["arn:${local.partition}:kms:${local.region}:${local.account}:key/*"]
          conditions = [{ test = "StringNotEquals", variable = "aws:ResourceTag/offload:environment", values = [env] }]
        },
      ]
    }
  }

  policies = merge([
    for key, parts in local.policy_parts : {
      for part, statements in parts : "${key}-${part}" => { role = key, statements = statements }
    }
  ]...)
}

# tfsec:ignore:aws-iam-no-policy-wildcards -- resources are this environment's name-prefix ARNs (<prefix>-*: the stack names everything <prefix>-<thing>), or "*" only where AWS has no resource-level permission for the action (CreateEventSourceMapping and CreateKey, each held to this environment by a condition; SNS subscription attributes; kms:ListAliases; X-Ray trace reads). README.md lists each.
data "aws_iam_policy_document" "stack" {
  for_each = local.policies

  dynamic "statement" {
    for_each = each.value.statements

    content {
      sid       = statement.value.sid
      effect    = statement.value.effect
      actions   = statement.value.actions
      resources = statement.value.resources

      dynamic "condition" {
        for_each = statement.value.conditions

        content {
          test     = condition.value.test
          variable = condition.value.variable
          values   = condition.value.values
        }
      }
    }
  }
}

resource "aws_iam_policy" "state" {
  for_each = local.roles

  name        = "${var.role_name_prefix}-${each.key}-state"
  description = "Terraform state of offload ${each.value.env} (${each.value.kind})."
  policy      = data.aws_iam_policy_document.state[each.key].json
}

resource "aws_iam_policy" "stack" {
  for_each = local.policies

  name        = "${var.role_name_prefix}-${each.key}"
  description = "offload ${local.roles[each.value.role].env} resources (${local.roles[each.value.role].kind})."
  policy      = data.aws_iam_policy_document.stack[each.key].json
}

resource "aws_iam_role_policy_attachment" "state" {
  for_each = local.roles

  role       = aws_iam_role.github[each.key].name
  policy_arn = aws_iam_policy.state[each.key].arn
}

resource "aws_iam_role_policy_attachment" "stack" {
  for_each = local.policies

  role       = aws_iam_role.github[each.value.role].name
  policy_arn = aws_iam_policy.stack[each.key].arn
}
