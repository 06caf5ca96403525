package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/offload/offload/pkg/batch"
	"github.com/offload/offload/pkg/message"
	"github.com/offload/offload/pkg/sms"
)

// settings is the function's configuration, from the environment the stack
// sets (docs/development.md).
type settings struct {
	// TableName is the idempotency table (IDEMPOTENCY_TABLE_NAME, required).
	TableName string
	// DLQURL is the sms queue's DLQ (DLQ_URL, required).
	DLQURL string
	// Provider is "sns" or "twilio" (SMS_PROVIDER, default sns).
	Provider string
	// TwilioSecretARN holds {"account_sid","auth_token","from"} (TWILIO_SECRET_ARN,
	// required with twilio).
	TwilioSecretARN string
	// TwilioURL overrides Twilio's API base URL (TWILIO_API_URL, optional).
	TwilioURL string
	// SecretTTL is how long credentials are cached (TWILIO_SECRET_TTL, default 15m).
	SecretTTL time.Duration
	// RatePerSecond caps sends per container (SMS_RATE_PER_SECOND, default 10; 0 = no cap).
	RatePerSecond float64
	// ResendOnUnknown sends again when an earlier attempt's outcome is unknown
	// (SMS_RESEND_ON_UNKNOWN, default false: at most once).
	ResendOnUnknown bool
	// ProviderTimeout bounds one provider call; a record with less than it
	// (plus a margin) left is not started (SMS_PROVIDER_TIMEOUT, default 10s).
	ProviderTimeout time.Duration
	// Retention is how long idempotency records are kept (IDEMPOTENCY_RETENTION, default 24h).
	Retention time.Duration
	// Concurrency is how many records of a batch are sent at once (SMS_CONCURRENCY, default 5).
	Concurrency int
	// BackoffBase and BackoffMax bound the visibility backoff of throttled
	// requests (SMS_BACKOFF_BASE default 5s, SMS_BACKOFF_MAX default 10m: with 12 receives about an hour).
	BackoffBase, BackoffMax time.Duration
	// DLQMaxBytes is the size dead letters are trimmed to
	// (DLQ_MAX_MESSAGE_BYTES, default 262144: the deployed DLQ's limit).
	DLQMaxBytes int
	// MaxReceiveCount is the trigger queue's maxReceiveCount
	// (MAX_RECEIVE_COUNT, default 0 = unknown): a record still failing on
	// that receive is dead-lettered with its reason (batch.WithMaxReceiveCount).
	MaxReceiveCount int
	// Environment names the deployment in metrics (OFFLOAD_ENV).
	Environment string
	// LogLevel is the logrus level (LOG_LEVEL).
	LogLevel string
}

// loadSettings reads the configuration and reports every problem at once.
func loadSettings(getenv func(string) string) (settings, error) {
	s := settings{
		TableName: getenv("IDEMPOTENCY_TABLE_NAME"), DLQURL: getenv("DLQ_URL"), Provider: strings.ToLower(getenv("SMS_PROVIDER")),
		TwilioSecretARN: getenv("TWILIO_SECRET_ARN"), TwilioURL: getenv("TWILIO_API_URL"),
		SecretTTL: 15 * time.Minute, ProviderTimeout: sms.DefaultSendTimeout, RatePerSecond: 10, Retention: 24 * time.Hour, Concurrency: 5,
		BackoffBase: 5 * time.Second, BackoffMax: 10 * time.Minute, DLQMaxBytes: batch.DefaultDeadLetterMaxBytes,
		Environment: getenv("OFFLOAD_ENV"), LogLevel: getenv("LOG_LEVEL"),
	}
	var errs []error
	if s.TableName == "" {
		errs = append(errs, errors.New("IDEMPOTENCY_TABLE_NAME is required"))
	}
	if s.DLQURL == "" {
		errs = append(errs, errors.New("DLQ_URL is required"))
	}
	switch s.Provider {
	case "":
		s.Provider = "sns"
	case "sns":
	case "twilio":
		if s.TwilioSecretARN == "" {
			errs = append(errs, errors.New("TWILIO_SECRET_ARN is required when SMS_PROVIDER is twilio"))
		}
	default:
		errs = append(errs, fmt.Errorf("SMS_PROVIDER must be sns or twilio, got %q", s.Provider))
	}
	if s.Environment == "" {
		s.Environment = "unknown"
	}
	if v := getenv("SMS_RATE_PER_SECOND"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 {
			errs = append(errs, fmt.Errorf("SMS_RATE_PER_SECOND must be a number ≥ 0, got %q", v))
		}
		s.RatePerSecond = f
	}
	if v := getenv("SMS_RESEND_ON_UNKNOWN"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("SMS_RESEND_ON_UNKNOWN must be true or false, got %q", v))
		}
		s.ResendOnUnknown = b
	}
	if v := getenv("SMS_CONCURRENCY"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			errs = append(errs, fmt.Errorf("SMS_CONCURRENCY must be an integer from 1 to 100, got %q", v))
		}
		s.Concurrency = n
	}
	for _, d := range []struct {
		name string
		dst  *time.Duration
	}{{"TWILIO_SECRET_TTL", &s.SecretTTL}, {"IDEMPOTENCY_RETENTION", &s.Retention}, {"SMS_BACKOFF_BASE", &s.BackoffBase}, {"SMS_BACKOFF_MAX", &s.BackoffMax}, {"SMS_PROVIDER_TIMEOUT", &s.ProviderTimeout}} {
		if v := getenv(d.name); v != "" {
			dur, err := time.ParseDuration(v)
			if err != nil || dur <= 0 {
				errs = append(errs, fmt.Errorf("%s must be a positive duration such as 30s, got %q", d.name, v))
			}
			*d.dst = dur
		}
	}
	if v := getenv("MAX_RECEIVE_COUNT"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			errs = append(errs, fmt.Errorf("MAX_RECEIVE_COUNT must be an integer from 1 to 1000 (the queue's redrive maxReceiveCount), got %q", v))
		}
		s.MaxReceiveCount = n
	}
	if v := getenv("DLQ_MAX_MESSAGE_BYTES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1024 || n > message.MaxMessageBytes {
			errs = append(errs, fmt.Errorf("DLQ_MAX_MESSAGE_BYTES must be an integer from 1024 to %d, got %q", message.MaxMessageBytes, v))
		}
		s.DLQMaxBytes = n
	}
	return s, errors.Join(errs...)
}
