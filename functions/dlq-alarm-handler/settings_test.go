package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/offload/offload/internal/function"
	"github.com/offload/offload/internal/stackenv"
	"github.com/offload/offload/internal/testenv"
)

var required = map[string]string{"NOTIFICATIONS_TOPIC_ARN": "arn", "IDEMPOTENCY_TABLE_NAME": "t", "DEAD_LETTER_QUEUES": " a-dlq, b-dlq ,"}

func with(kv map[string]string) map[string]string {
	m := map[string]string{}
	for _, src := range []map[string]string{required, kv} {
		for k, v := range src {
			m[k] = v
		}
	}
	return m
}

func TestSettings(t *testing.T) {
	t.Parallel()
	s, err := function.Load[settings](testenv.Getenv(required))
	require.NoError(t, err)
	require.Equal(t, settings{Common: function.Common{Environment: "unknown"}, TopicARN: "arn", TableName: "t",
		DeadLetterQueues: map[string]bool{"a-dlq": true, "b-dlq": true}, SampleSize: 10,
		// Today's values, the hard-coded ones before they were settings.
		Retention: 7 * 24 * time.Hour, LeaseMargin: 5 * time.Second, WebhookTimeout: 5 * time.Second, SampleVisibility: 5 * time.Second}, s)

	s, err = function.Load[settings](testenv.Getenv(with(map[string]string{"REPORT_LEASE_MARGIN": "30s", "WEBHOOK_TIMEOUT": "2s", "SAMPLE_VISIBILITY_TIMEOUT": "1m", "SAMPLE_SIZE": "50"})))
	require.NoError(t, err)
	require.Equal(t, []time.Duration{30 * time.Second, 2 * time.Second, time.Minute}, []time.Duration{s.LeaseMargin, s.WebhookTimeout, s.SampleVisibility})
	require.Equal(t, 50, s.SampleSize)

	_, err = function.Load[settings](testenv.Getenv(map[string]string{"SAMPLE_SIZE": "99", "SAMPLE_VISIBILITY_TIMEOUT": "500ms", "REPORT_LEASE_MARGIN": "1h", "DEAD_LETTER_QUEUES": ","}))
	for _, want := range []string{"NOTIFICATIONS_TOPIC_ARN is required", "IDEMPOTENCY_TABLE_NAME is required", "DEAD_LETTER_QUEUES is required",
		"SAMPLE_SIZE must be an integer from 1 to 50", "SAMPLE_VISIBILITY_TIMEOUT must be a positive duration such as 30s (from 1s to 12h)", "REPORT_LEASE_MARGIN"} {
		require.ErrorContains(t, err, want)
	}
}

// The stack sets the dedupe retention (terraform/stack/retention.tf); without
// it the handler keeps its 7-day default.
func TestSettingsRetention(t *testing.T) {
	t.Parallel()
	s, err := function.Load[settings](testenv.Getenv(with(map[string]string{"IDEMPOTENCY_RETENTION": "1231230s"})))
	require.NoError(t, err)
	require.Equal(t, 1231230*time.Second, s.Retention)

	for _, bad := range []string{"14d", "0s", "-1h"} {
		_, err = function.Load[settings](testenv.Getenv(with(map[string]string{"IDEMPOTENCY_RETENTION": bad})))
		require.ErrorContains(t, err, "IDEMPOTENCY_RETENTION must be a positive duration", bad)
	}
}

// What terraform/stack sets is what the settings read, no more, no less.
func TestSettingsMatchTheStack(t *testing.T) {
	t.Parallel()
	stackenv.CheckFunction(t, "../..", "dlq-alarm-handler", settings{}, map[string]string{
		"REPORT_LEASE_MARGIN":       "5 s beyond the invocation's deadline covers the store's last write; a longer margin only delays the retry that takes over a dead report",
		"WEBHOOK_TIMEOUT":           "a Slack-compatible webhook answers in well under 5 s; the SNS notification does not wait on it",
		"SAMPLE_SIZE":               "10 dead letters is what one notification can show on-call (ReceiveMessage's maximum per call)",
		"SAMPLE_VISIBILITY_TIMEOUT": "the sampler makes sampled messages visible again at once; 5 s only bounds how long they hide if that fails",
	})
}

func TestSettingsDocs(t *testing.T) {
	stackenv.CheckDocs(t, "../..", "dlq-alarm-handler", settings{})
}
