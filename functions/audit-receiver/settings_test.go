package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/offload/offload/internal/function"
	"github.com/offload/offload/internal/stackenv"
	"github.com/offload/offload/internal/testenv"
	"github.com/offload/offload/pkg/batch"
)

func TestSettings(t *testing.T) {
	t.Parallel()
	s, err := function.Load[settings](testenv.Getenv(map[string]string{"AUDIT_TABLE_NAME": "t", "DLQ_URL": "u"}))
	require.NoError(t, err)
	require.Equal(t, settings{Common: function.Common{Environment: "unknown"}, Consumer: function.Consumer{DLQURL: "u", DLQMaxBytes: batch.DefaultDeadLetterMaxBytes},
		TableName: "t", Concurrency: 10, BackoffBase: 5 * time.Second, BackoffMax: 10 * time.Minute}, s)

	s, err = function.Load[settings](testenv.Getenv(map[string]string{"AUDIT_TABLE_NAME": "t", "DLQ_URL": "u", "DLQ_MAX_MESSAGE_BYTES": "65536", "AUDIT_BACKOFF_MAX": "600s", "MAX_RECEIVE_COUNT": "12"}))
	require.NoError(t, err)
	require.Equal(t, 65536, s.DLQMaxBytes)
	require.Equal(t, 10*time.Minute, s.BackoffMax)
	require.Equal(t, 12, s.MaxReceiveCount)

	_, err = function.Load[settings](testenv.Getenv(map[string]string{"AUDIT_CONCURRENCY": "0", "AUDIT_BACKOFF_MAX": "soon", "DLQ_MAX_MESSAGE_BYTES": "12", "MAX_RECEIVE_COUNT": "x"}))
	for _, want := range []string{"AUDIT_TABLE_NAME is required", "DLQ_URL is required", "AUDIT_CONCURRENCY must be an integer from 1 to 100", "AUDIT_BACKOFF_MAX", "DLQ_MAX_MESSAGE_BYTES", "MAX_RECEIVE_COUNT"} {
		require.ErrorContains(t, err, want)
	}
}

// With the defaults and the stack's 12 receives, a record survives about an
// hour of a failing dependency (terraform/stack/README.md, "Retry budget").
func TestDefaultRetryBudgetIsAboutAnHour(t *testing.T) {
	t.Parallel()
	s, err := function.Load[settings](testenv.Getenv(map[string]string{"AUDIT_TABLE_NAME": "t", "DLQ_URL": "u"}))
	require.NoError(t, err)
	budget := batch.RetryBudget(batch.ExponentialBackoff(s.BackoffBase, s.BackoffMax), 12)
	require.Equal(t, 3635*time.Second, budget)
}

// What terraform/stack sets is what the settings read, no more, no less.
func TestSettingsMatchTheStack(t *testing.T) {
	t.Parallel()
	stackenv.CheckFunction(t, "../..", "audit-receiver", settings{}, map[string]string{
		"AUDIT_CONCURRENCY": "10 records at once is a whole batch (the mappings' batch size, queues.tf); the DynamoDB writes are what limits, not the function",
	})
}

func TestSettingsDocs(t *testing.T) {
	stackenv.CheckDocs(t, "../..", "audit-receiver", settings{})
}
