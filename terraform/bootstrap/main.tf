# One-time setup of an AWS account for the deploy pipeline
# (.github/workflows/deploy.yml), applied with your own admin credentials:
#
#   - the GitHub Actions OIDC identity provider;
#   - per environment, a deploy role that only that repository's jobs running
#     in the GitHub environment <env> can assume, and a read-only plan role
#     for the <env>-plan GitHub environment;
#   - the S3 bucket holding every environment's Terraform state (versioned,
#     encrypted, private, TLS only), locked with S3-native lock files.
#
# Each role may manage only resources named after its environment's prefix;
# iam.tf lists the actions and README.md the few that AWS allows only on "*".

provider "aws" {
  region = var.region

  default_tags {
    tags = merge(var.tags, {
      "offload:component" = "bootstrap"
    })
  }
}

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account   = data.aws_caller_identity.current.account_id
  partition = data.aws_partition.current.partition
  region    = data.aws_region.current.name

  state_bucket = coalesce(var.state_bucket_name, "offload-tfstate-${local.account}-${local.region}")
}

# ---------------------------------------------------------------------------
# GitHub's OIDC provider. No thumbprint: IAM validates GitHub's certificate
# against its own trusted CAs for this issuer.

locals {
  github_oidc_url = "https://token.actions.githubusercontent.com"
  github_oidc_arn = var.create_oidc_provider ? aws_iam_openid_connect_provider.github[0].arn : data.aws_iam_openid_connect_provider.github[0].arn
}

resource "aws_iam_openid_connect_provider" "github" {
  count = var.create_oidc_provider ? 1 : 0

  url            = local.github_oidc_url
  client_id_list = ["sts.amazonaws.com"]
}

data "aws_iam_openid_connect_provider" "github" {
  count = var.create_oidc_provider ? 0 : 1

  url = local.github_oidc_url
}
