region      = "us-east-1"
name_prefix = "offload-prod"
log_level   = "info"

# The bootstrap's boundary policy (terraform/bootstrap): the deploy role may
# only create roles under it, and the stack puts every role under it.
permissions_boundary_name = "offload-prod-boundary"

# Required (the plan refuses to run without it): the production account, so
# that no other credentials can apply here:
# allowed_account_ids = ["<prod account id>"]

log_retention_days       = 365
function_timeout_seconds = 10
function_overrides = {
  # Twilio's API plus retries inside one invocation.
  "sms-sender"        = { timeout_seconds = 15 }
  "dlq-alarm-handler" = { timeout_seconds = 30 }
}
max_receive_count = 12

# On-call addresses (each confirms its subscription once). prod refuses to
# plan without at least one alarm address.
alarm_email_addresses        = []
notification_email_addresses = []
sms_provider                 = "sns"

deletion_protection         = true
point_in_time_recovery      = true
secret_recovery_window_days = 30
kms_deletion_window_days    = 30
