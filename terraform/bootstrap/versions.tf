terraform {
  # 1.10+: S3-native state locking (use_lockfile) in the environments this
  # bootstrap serves.
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }

  # The bootstrap's own state is local (terraform.tfstate in this directory,
  # git-ignored): it is applied once per account by a person with admin
  # credentials, before any bucket exists. Keep the file, or move it into the
  # bucket afterwards (README.md: "Moving this state into the bucket").
}
