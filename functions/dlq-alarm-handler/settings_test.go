package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The stack sets the dedupe retention (terraform/stack/retention.tf); without
// it the handler keeps its 7-day default.
func TestSettingsRetention(t *testing.T) {
	t.Parallel()
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	base := map[string]string{"NOTIFICATIONS_TOPIC_ARN": "arn", "IDEMPOTENCY_TABLE_NAME": "t", "DEAD_LETTER_QUEUES": "a-dlq"}
	with := func(v string) map[string]string {
		m := map[string]string{"IDEMPOTENCY_RETENTION": v}
		for k, x := range base {
			m[k] = x
		}
		return m
	}

	s, err := loadSettings(env(base))
	require.NoError(t, err)
	require.Equal(t, 7*24*time.Hour, s.Retention)

	s, err = loadSettings(env(with("1231230s")))
	require.NoError(t, err)
	require.Equal(t, 1231230*time.Second, s.Retention)

	for _, bad := range []string{"14d", "0s", "-1h"} {
		_, err = loadSettings(env(with(bad)))
		require.ErrorContains(t, err, "IDEMPOTENCY_RETENTION must be a positive duration", bad)
	}
}
