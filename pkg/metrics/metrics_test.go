package metrics

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestCountWritesOneEMFLine(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	r := New(&buf, "offload", map[string]string{"Function": "audit-receiver"})
	r.now = func() time.Time { return time.UnixMilli(1795734763123) }
	r.Count("AuditDuplicate", 2)

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 1)
	var got map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &got))
	require.Equal(t, "audit-receiver", got["Function"])
	require.EqualValues(t, 2, got["AuditDuplicate"])
	aws := got["_aws"].(map[string]any)
	require.EqualValues(t, 1795734763123, aws["Timestamp"])
	d := aws["CloudWatchMetrics"].([]any)[0].(map[string]any)
	require.Equal(t, "offload", d["Namespace"])
	require.Equal(t, []any{[]any{"Function"}}, d["Dimensions"])
	require.Equal(t, []any{map[string]any{"Name": "AuditDuplicate", "Unit": "Count"}}, d["Metrics"])
}

func TestConcurrentLinesNeverInterleave(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	r := New(&buf, "offload", nil)
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() { defer wg.Done(); r.Put("Latency", 12.5, Milliseconds) }()
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 50)
	for _, l := range lines {
		var v map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &v), l)
	}
}
