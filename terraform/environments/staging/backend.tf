# State in S3 with S3-native locking (a lock object next to the state).
# Bucket and region come from the deploy pipeline:
#   terraform init -backend-config="bucket=<state bucket>" -backend-config="region=<region>"
terraform {
  backend "s3" {
    key          = "offload/staging.tfstate"
    encrypt      = true
    use_lockfile = true
  }
}
