package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/zclconf/go-cty/cty"

	"github.com/offload/offload/internal/function"
	"github.com/offload/offload/internal/stackenv"
	"github.com/offload/offload/internal/testenv"
)

func TestSettings(t *testing.T) {
	t.Parallel()
	s, err := function.Load[settings](testenv.Getenv(map[string]string{"IDEMPOTENCY_TABLE_NAME": "t", "DLQ_URL": "u"}))
	require.NoError(t, err)
	require.Equal(t, "sns", s.Provider)
	require.Equal(t, 10.0, s.RatePerSecond)
	require.False(t, s.ResendOnUnknown)
	require.Equal(t, 10*time.Second, s.ProviderTimeout)
	require.Equal(t, 24*time.Hour, s.Retention)
	require.Equal(t, 15*time.Minute, s.SecretTTL)
	require.Equal(t, 5, s.Concurrency)
	require.Equal(t, 262144, s.DLQMaxBytes)
	require.Equal(t, 5*time.Second, s.BackoffBase)
	require.Equal(t, 10*time.Minute, s.BackoffMax)
	s, err = function.Load[settings](testenv.Getenv(map[string]string{"IDEMPOTENCY_TABLE_NAME": "t", "DLQ_URL": "u", "SMS_PROVIDER": "TWILIO", "TWILIO_SECRET_ARN": "arn",
		"SMS_PROVIDER_TIMEOUT": "1500ms", "DLQ_MAX_MESSAGE_BYTES": "65536", "MAX_RECEIVE_COUNT": "12"}))
	require.NoError(t, err)
	require.Equal(t, "twilio", s.Provider)
	require.Equal(t, 1500*time.Millisecond, s.ProviderTimeout)
	require.Equal(t, 65536, s.DLQMaxBytes)
	require.Equal(t, 12, s.MaxReceiveCount)

	_, err = function.Load[settings](testenv.Getenv(map[string]string{"SMS_PROVIDER": "twilio", "SMS_RATE_PER_SECOND": "-1", "SMS_RESEND_ON_UNKNOWN": "maybe", "SMS_BACKOFF_MAX": "0s", "SMS_PROVIDER_TIMEOUT": "soon", "DLQ_MAX_MESSAGE_BYTES": "12", "MAX_RECEIVE_COUNT": "0"}))
	for _, want := range []string{"IDEMPOTENCY_TABLE_NAME is required", "DLQ_URL is required", "TWILIO_SECRET_ARN is required when SMS_PROVIDER is twilio", "SMS_RATE_PER_SECOND must be a number ≥ 0",
		"SMS_RESEND_ON_UNKNOWN must be true or false", "SMS_BACKOFF_MAX must be a positive duration", "SMS_PROVIDER_TIMEOUT", "DLQ_MAX_MESSAGE_BYTES must be an integer from 1024 to 1048576", "MAX_RECEIVE_COUNT"} {
		require.ErrorContains(t, err, want)
	}
	_, err = function.Load[settings](testenv.Getenv(map[string]string{"IDEMPOTENCY_TABLE_NAME": "t", "DLQ_URL": "u", "SMS_PROVIDER": "carrier-pigeon"}))
	require.EqualError(t, err, `SMS_PROVIDER must be sns or twilio, got "carrier-pigeon"`)
}

// What terraform/stack sets is what the settings read, no more, no less.
func TestSettingsMatchTheStack(t *testing.T) {
	t.Parallel()
	stackenv.CheckFunction(t, "../..", "sms-sender", settings{}, map[string]string{
		"TWILIO_API_URL":        "set only when var.twilio_api_url is (make chaos: the local Twilio fake; TestTwilioAPIURLIsSetOnlyOnRequest); else Twilio's own API",
		"TWILIO_SECRET_TTL":     "a rotated credential is picked up within 15 minutes, and a rejected one at once (the credentials are invalidated on 401)",
		"SMS_RATE_PER_SECOND":   "10 a second per container, within the providers' default account limits; the mapping's maximum concurrency (queues.tf) bounds the containers",
		"SMS_RESEND_ON_UNKNOWN": "at most once is the product's promise in every environment; resending is an operator's choice for one incident",
		"SMS_CONCURRENCY":       "5 sends at once per batch, with the rate cap the provider's real limit",
	})
}

// The stack sets TWILIO_API_URL on the sms-sender alone, and only when asked.
func TestTwilioAPIURLIsSetOnlyOnRequest(t *testing.T) {
	t.Parallel()
	env, err := stackenv.Environment("../../terraform/stack", map[string]cty.Value{"twilio_api_url": cty.StringVal("http://127.0.0.1:1")})
	require.NoError(t, err)
	require.Contains(t, env["sms-sender"], "TWILIO_API_URL")
	require.NotContains(t, env["audit-receiver"], "TWILIO_API_URL")
	require.NotContains(t, env["dlq-alarm-handler"], "TWILIO_API_URL")
}

func TestSettingsDocs(t *testing.T) {
	stackenv.CheckDocs(t, "../..", "sms-sender", settings{})
}
