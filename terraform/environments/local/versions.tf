terraform {
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }

  # Local state (terraform.tfstate here, git-ignored): the emulator is thrown
  # away with it.
}
