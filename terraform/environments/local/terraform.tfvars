# The emulator (moto through scripts/moto_launcher.py). Why these values: README.md.
name_prefix = "offload-local"
log_level   = "debug"

log_retention_days = 1

# Short timeouts so that a failing message reaches its DLQ in under a minute:
# visibility = 6 x 3 s = 18 s, and 3 receives.
function_timeout_seconds = 3
max_receive_count        = 3

# The local runtime evaluates the alarms itself, every period.
alarm_period_seconds = 10
# A short retry budget, for test speed (README.md): 2+4+8 s (audit) and
# 5+10+20 s (sms) over 3 receives, against about an hour in AWS.
queue_overrides = {
  audit = { oldest_message_age_threshold_seconds = 60, backoff_base_seconds = 2, backoff_max_seconds = 300 }
  sms   = { oldest_message_age_threshold_seconds = 60, backoff_base_seconds = 5, backoff_max_seconds = 900 }
}

# Throwaway: destroy must work and names must be reusable at once.
deletion_protection         = false
point_in_time_recovery      = true
secret_recovery_window_days = 0
kms_deletion_window_days    = 7

# SMS through SNS: the launcher records every SMS (GET /_offload/sms).
sms_provider = "sns"

local_runtime = true
