terraform {
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }

  # State in S3 with S3-native locking (a lock object next to the state).
  # Bucket and region come from the deploy pipeline:
  #   terraform init -backend-config="bucket=<state bucket>" -backend-config="region=<region>"
  backend "s3" {
    key          = "offload/prod.tfstate"
    encrypt      = true
    use_lockfile = true
  }
}
