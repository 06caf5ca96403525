# Shared by every environment root (local, dev, staging, prod), which links
# this file: one provider block and one stack, differing only in variables,
# the environment name (each root's main.tf) and the backend (versions.tf).

# The same provider block in every environment: no endpoints, no flags. The
# local environment reaches the emulator through AWS_ENDPOINT_URL alone.
provider "aws" {
  region              = var.region
  allowed_account_ids = var.allowed_account_ids
}

module "stack" {
  source = "../../stack"

  environment = local.environment
  name_prefix = var.name_prefix
  dist_dir    = var.dist_dir

  log_level                = var.log_level
  log_retention_days       = var.log_retention_days
  function_timeout_seconds = var.function_timeout_seconds
  function_memory_mb       = var.function_memory_mb
  function_overrides       = var.function_overrides

  max_receive_count    = var.max_receive_count
  queue_overrides      = var.queue_overrides
  queue_kms_key_arn    = var.queue_kms_key_arn
  alarm_period_seconds = var.alarm_period_seconds

  alarm_email_addresses        = var.alarm_email_addresses
  notification_email_addresses = var.notification_email_addresses
  sms_provider                 = var.sms_provider
  twilio_api_url               = var.twilio_api_url

  deletion_protection         = var.deletion_protection
  point_in_time_recovery      = var.point_in_time_recovery
  secret_recovery_window_days = var.secret_recovery_window_days
  kms_deletion_window_days    = var.kms_deletion_window_days
  local_runtime               = var.local_runtime

  permissions_boundary_name         = var.permissions_boundary_name
  sms_idempotency_retention_seconds = var.sms_idempotency_retention_seconds
  alarm_dedupe_retention_seconds    = var.alarm_dedupe_retention_seconds

  tags = var.tags
}
