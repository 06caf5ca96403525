package logging_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/offload/offload/pkg/logging"
)

func slogLines(t *testing.T, b *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m), line)
		out = append(out, m)
	}
	return out
}

// A slog logger on NewSlogHandler masks what the functions' logger masks,
// in the same layout.
func TestSlogHandlerMasksLikeTheFunctions(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	log := slog.New(logging.NewSlogHandler(&b, slog.LevelDebug)).With("service", "example-service")
	log.Info("sms offloaded to +447700900089", "to", "447700900089", "api_key", "k-123456789", "sms_request_id", "order-17",
		"error", errors.New("Authorization: Bearer abc.def"), "took", 1500*time.Millisecond, slog.Group("http", "status", 202))
	log.Debug("debug line")

	lines := slogLines(t, &b)
	require.Len(t, lines, 2)
	l := lines[0]
	require.Equal(t, "info", l["level"])
	require.Equal(t, "sms offloaded to +44********89", l["message"])
	require.Equal(t, "44********89", l["to"])
	require.Equal(t, logging.Redacted, l["api_key"])
	require.Equal(t, "order-17", l["sms_request_id"])
	require.Equal(t, "Authorization: Bearer "+logging.Redacted, l["error"])
	require.Equal(t, "1.5s", l["took"])
	require.EqualValues(t, 202, l["http.status"])
	require.Equal(t, "example-service", l["service"])
	require.NotEmpty(t, l["timestamp"])

	// The same entry through the functions' logger: the same masked fields.
	var fb bytes.Buffer
	logging.New(logging.WithOutput(&fb)).WithField("to", "447700900089").WithField("api_key", "k-123456789").Info("sms offloaded to +447700900089")
	f := slogLines(t, &fb)[0]
	for _, k := range []string{"message", "to", "api_key"} {
		require.Equal(t, f[k], l[k], k)
	}
	require.Equal(t, "debug", lines[1]["level"])
}

func TestSlogHandlerLevel(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	log := slog.New(logging.NewSlogHandler(&b, nil))
	log.Debug("hidden")
	log.Warn("shown")
	log.WithGroup("g").Error("grouped", "k", "v")
	lines := slogLines(t, &b)
	require.Len(t, lines, 2)
	require.Equal(t, "warning", lines[0]["level"])
	require.Equal(t, "error", lines[1]["level"])
	require.Equal(t, "v", lines[1]["g.k"])
}
