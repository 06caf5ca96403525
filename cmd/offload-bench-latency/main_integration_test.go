//go:build integration

package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/offload/offload/internal/latencybench"
	"github.com/offload/offload/internal/testenv"
)

// A short run of the real bench against the emulator: the binaries built as
// make bench-latency builds them, the stack started and stopped by the
// driver, and a report whose last line is the latency line with all six
// figures. Whether the goals hold at this size is not asserted (exit 0 or 1);
// a run that fails is (exit 2).
func TestBenchPrintsTheLatencyLineLast(t *testing.T) {
	testenv.Endpoint(t)
	dir := t.TempDir()
	bins := map[string]string{}
	for _, pkg := range []string{"example-service", "offload-twilio-fake", "offload-bench-latency"} {
		bins[pkg] = filepath.Join(dir, pkg)
		out, err := exec.Command("go", "build", "-o", bins[pkg], "../"+pkg).CombinedOutput()
		require.NoError(t, err, "build %s: %s", pkg, out)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bins["offload-bench-latency"], "--service-bin", bins["example-service"], "--twilio-fake-bin", bins["offload-twilio-fake"],
		"--log-dir", dir, "-n", "40", "-warmup", "5", "-rate", "200", "-sms-median", "20ms", "-sms-p99", "40ms")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		require.Equal(t, 1, exit.ExitCode(), "only a missed goal may fail the run: %s\n%s", stderr.String(), stdout.String())
	} else {
		require.NoError(t, err)
	}

	lines := strings.Split(strings.TrimRight(stdout.String(), "\n"), "\n")
	got, perr := latencybench.ParseLastLine(lines[len(lines)-1])
	require.NoError(t, perr, "report:\n%s", stdout.String())
	for k, v := range got {
		require.Greater(t, v, 0.0, k)
	}
	require.LessOrEqual(t, got["audit_async_p50_ms"], got["audit_async_p99_ms"])
	require.GreaterOrEqual(t, got["sms_sync_p99_ms"], 10.0, "the stand-in's latency is on the /sms/sync path")
	for _, ep := range append([]latencybench.Endpoint{latencybench.Floor}, latencybench.Endpoints...) {
		require.Contains(t, stdout.String(), ep.Label)
	}
	require.Regexp(t, `(?m)^floor: net/http that only answers, same generator and mix: p50 \d+\.\d{3} ms, p99 \d+\.\d{3} ms; POST /audit \(buffered\) is `, stdout.String())
	// Every record answered 202 is on its queue; a send the SDK retried
	// after its answer was lost may have stored one twice.
	svcLog, _ := os.ReadFile(filepath.Join(dir, "bench-latency-example-service.log"))
	require.Regexp(t, `after SIGTERM the audit queue holds \d+ messages for 90 records: 0 missing, \d+ stored twice, 0 unknown .*; the SMS queue \d+ messages for 45 records: 0 missing, \d+ stored twice, 0 unknown`, stdout.String(), "the service's log:\n%s", svcLog)
}
