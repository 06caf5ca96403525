package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/offload/offload/pkg/dlq"
	"github.com/offload/offload/pkg/producer"
)

func run(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := realMain(context.Background(), args, &out, &errOut)
	return out.String(), errOut.String(), err
}

func TestHelpListsEveryCommand(t *testing.T) {
	t.Parallel()
	out, _, err := run(t, "help")
	require.NoError(t, err)
	for _, c := range []string{"send audit", "send sms", "dlq peek", "dlq redrive", "audit get", "--outputs"} {
		require.Contains(t, out, c)
	}
}

func TestEveryCommandHasHelp(t *testing.T) {
	t.Parallel()
	for _, cmd := range [][]string{{"send", "audit"}, {"send", "sms"}, {"dlq", "peek"}, {"dlq", "redrive"}, {"audit", "get"}} {
		_, errOut, err := run(t, append(cmd, "-h")...)
		require.ErrorIs(t, err, flag.ErrHelp, cmd)
		require.Contains(t, errOut, "Usage: offload "+strings.Join(cmd, " "), cmd)
	}
}

func TestUnknownCommandFails(t *testing.T) {
	t.Parallel()
	_, errOut, err := run(t, "dlq", "purge", "audit")
	require.ErrorContains(t, err, `unknown command "dlq purge"`)
	require.Contains(t, errOut, "Commands:")
}

func TestMissingOutputsSayHowToGetThem(t *testing.T) {
	t.Parallel()
	a := &app{outputsPath: filepath.Join(t.TempDir(), "missing.json")}
	_, err := a.outputs()
	require.ErrorContains(t, err, "make run")
}

func TestSendRequiresItsFlagsBeforeTouchingAWS(t *testing.T) {
	t.Parallel()
	_, _, err := run(t, "--outputs", "/nonexistent", "send", "audit")
	require.ErrorContains(t, err, "--text is required")
	_, _, err = run(t, "--outputs", "/nonexistent", "send", "sms", "--to", "+447400123456")
	require.ErrorContains(t, err, "--to and --body are required")
	_, _, err = run(t, "--outputs", "/nonexistent", "send", "sms", "--to", "12", "--body", "x")
	require.ErrorContains(t, err, "invalid phone number")
}

func TestParseInterspersedAcceptsFlagsAfterTheQueue(t *testing.T) {
	t.Parallel()
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	n := fs.Int("n", 10, "")
	j := fs.Bool("json", false, "")
	require.NoError(t, parseInterspersed(fs, []string{"audit", "-n", "3", "--json"}))
	require.Equal(t, 3, *n)
	require.True(t, *j)
	require.Equal(t, []string{"audit"}, fs.Args())
}

func TestProgressBar(t *testing.T) {
	t.Parallel()
	require.Equal(t, "[###############---------------] 5/10 moved (mover)", progressBar(dlq.Progress{Method: "mover", Moved: 5, Total: 10}))
	require.Equal(t, "[##############################] 12/12 moved (move-task), 1 failed", progressBar(dlq.Progress{Method: "move-task", Moved: 12, Total: 3, Failed: 1}))
}

func TestSendRefusesBodiesOverTheDeployedQueueLimit(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "outputs.json")
	require.NoError(t, os.WriteFile(path, []byte(`{"audit_queue_url":{"value":"http://127.0.0.1:1/123456789012/q"},
		"queue_max_message_size":{"value":{"audit":1024,"sms":1024}}}`), 0o600))
	_, _, err := run(t, "--outputs", path, "send", "audit", "--text", strings.Repeat("x", 2000))
	require.ErrorIs(t, err, producer.ErrTooLarge, "refused before any call (nothing listens on port 1)")
	require.ErrorContains(t, err, "over the limit of 1024 bytes")
}
