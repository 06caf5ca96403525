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
	s, err := function.Load[settings](testenv.Getenv(map[string]string{"DLQ_URL": "u"}))
	require.NoError(t, err)
	require.Equal(t, settings{Common: function.Common{Environment: "unknown"}, Consumer: function.Consumer{DLQURL: "u", DLQMaxBytes: batch.DefaultDeadLetterMaxBytes},
		Concurrency: 4, BackoffBase: 5 * time.Second, BackoffMax: 10 * time.Minute}, s)

	s, err = function.Load[settings](testenv.Getenv(map[string]string{"DLQ_URL": "u", "OFFLOAD_ENV": "dev", "WELCOME_CONCURRENCY": "8", "WELCOME_BACKOFF_MAX": "900s", "MAX_RECEIVE_COUNT": "12"}))
	require.NoError(t, err)
	require.Equal(t, "dev", s.Environment)
	require.Equal(t, 8, s.Concurrency)
	require.Equal(t, 15*time.Minute, s.BackoffMax)
	require.Equal(t, 12, s.MaxReceiveCount)

	_, err = function.Load[settings](testenv.Getenv(map[string]string{"WELCOME_CONCURRENCY": "0", "WELCOME_BACKOFF_BASE": "soon", "LOG_LEVEL": "loud", "DLQ_MAX_MESSAGE_BYTES": "12"}))
	for _, want := range []string{"DLQ_URL is required", "WELCOME_CONCURRENCY must be an integer from 1 to 100", "WELCOME_BACKOFF_BASE", "LOG_LEVEL", "DLQ_MAX_MESSAGE_BYTES"} {
		require.ErrorContains(t, err, want)
	}
}

// welcome is not deployed (no entry in terraform/stack), so there is no
// TestSettingsMatchTheStack here; its docs table is checked all the same.
func TestSettingsDocs(t *testing.T) {
	stackenv.CheckDocs(t, "../..", "welcome", settings{})
}
