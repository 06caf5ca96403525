package main

import (
	"errors"
	"time"

	"github.com/offload/offload/internal/function"
)

// settings is the function's configuration, from the environment the stack
// sets (terraform/stack/functions.tf; the table in docs/development.md is
// generated from these tags).
type settings struct {
	function.Common
	function.Consumer
	TableName       string        `env:"IDEMPOTENCY_TABLE_NAME,required" doc:"idempotency records: a redelivered request is never sent twice"`
	Retention       time.Duration `env:"IDEMPOTENCY_RETENTION" default:"24h" doc:"how long an idempotency record is kept; the stack sets it to outlive every delivery of the request (terraform/stack/retention.tf)"`
	Provider        string        `env:"SMS_PROVIDER" default:"sns" oneof:"sns twilio" doc:"the SMS provider: Amazon SNS or Twilio"`
	TwilioSecretARN string        `env:"TWILIO_SECRET_ARN" doc:"Secrets Manager secret holding the JSON account_sid, auth_token and from (or messaging_service_sid instead of from); required with twilio"`
	TwilioURL       string        `env:"TWILIO_API_URL" doc:"Twilio's API base URL; unset: Twilio's own (make chaos points it at a local fake)"`
	SecretTTL       time.Duration `env:"TWILIO_SECRET_TTL" default:"15m" doc:"how long the Twilio credentials are cached"`
	RatePerSecond   float64       `env:"SMS_RATE_PER_SECOND" default:"10" min:"0" doc:"sends per second per container; 0: no cap"`
	ResendOnUnknown bool          `env:"SMS_RESEND_ON_UNKNOWN" doc:"send again when an earlier attempt's outcome is unknown; unset: at most once"`
	ProviderTimeout time.Duration `env:"SMS_PROVIDER_TIMEOUT" default:"10s" doc:"bound of one provider call; a record with less than this plus 0.5 s left is not started (the stack: a third of the function timeout, at least 1s)"`
	Concurrency     int           `env:"SMS_CONCURRENCY" default:"5" min:"1" max:"100" doc:"how many records of a batch are sent at once"`
	BackoffBase     time.Duration `env:"SMS_BACKOFF_BASE" default:"5s" doc:"visibility backoff of a request failing transiently, doubled per receive (the retry budget: terraform/stack/README.md)"`
	BackoffMax      time.Duration `env:"SMS_BACKOFF_MAX" default:"10m" doc:"the longest such backoff"`
}

// Validate checks what no single variable says.
func (s settings) Validate() error {
	if s.Provider == "twilio" && s.TwilioSecretARN == "" {
		return errors.New("TWILIO_SECRET_ARN is required when SMS_PROVIDER is twilio")
	}
	return nil
}
