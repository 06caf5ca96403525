# The statement every resource policy of offload carries: deny every request
# that does not use TLS (aws:SecureTransport false), whoever makes it. The
# queue module's queues, the alarm handler's failures queue, the notifications
# module's topics and the bootstrap's state bucket take it from here, alone or
# merged with their own statements, so the guardrail is written once. A
# resource policy's deny only closes plain HTTP: identity policies still
# decide who may do what.

data "aws_iam_policy_document" "this" {
  policy_id = var.policy_id

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = var.actions
    resources = var.resources

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}
