# Written by hand; linked by every environment root like root.tf. The
# Terraform and provider versions every environment needs; each root's own
# backend.tf (dev, staging, prod: S3) or its absence (local: local state)
# says where its state lives.
terraform {
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }
}
