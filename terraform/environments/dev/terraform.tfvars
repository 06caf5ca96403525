region      = "us-east-1"
name_prefix = "offload-dev"
log_level   = "debug"

# The bootstrap's boundary policy (terraform/bootstrap): the deploy role may
# only create roles under it, and the stack puts every role under it.
permissions_boundary_name = "offload-dev-boundary"

# allowed_account_ids = ["<dev account id>"]

log_retention_days       = 14
function_timeout_seconds = 10
function_overrides = {
  # Twilio's API plus retries inside one invocation.
  "sms-sender"        = { timeout_seconds = 15 }
  "dlq-alarm-handler" = { timeout_seconds = 30 }
}
max_receive_count = 12

alarm_email_addresses        = []
notification_email_addresses = []
sms_provider                 = "sns"

deletion_protection         = false
point_in_time_recovery      = false
secret_recovery_window_days = 7
kms_deletion_window_days    = 7
