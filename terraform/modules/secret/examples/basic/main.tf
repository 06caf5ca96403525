# A secret created without a value: Terraform never holds the credential.
# Put it once, outside Terraform:
#
#   aws secretsmanager put-secret-value --secret-id "$(terraform output -raw secret_arn)" \
#     --secret-string '{"account_sid":"AC...","auth_token":"...","from":"+15005550006"}'
provider "aws" {}

module "twilio_secret" {
  source = "../.."

  name        = "example/twilio"
  description = "Twilio credentials: JSON {\"account_sid\", \"auth_token\", \"from\" or \"messaging_service_sid\"}."
}

output "secret_arn" {
  description = "TWILIO_SECRET_ARN for sms-sender."
  value       = module.twilio_secret.secret_arn
}
