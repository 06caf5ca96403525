package main

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRefusesToRunWithoutAnEndpoint(t *testing.T) {
	t.Setenv("AWS_ENDPOINT_URL", "")
	err := realMain(context.Background(), []string{"--trace-daemon", "off"})
	require.ErrorContains(t, err, "AWS_ENDPOINT_URL is not set")
}

func TestParseFlags(t *testing.T) {
	t.Parallel()
	o, err := parseFlags([]string{"--functions", "audit-receiver,sms-sender", "--poll-interval", "2s", "--alarm-period", "-1s", "--trace-daemon", "off"})
	require.NoError(t, err)
	require.Equal(t, "audit-receiver,sms-sender", o.functions)
	require.Equal(t, 2*time.Second, o.pollWait)
	require.Equal(t, -time.Second, o.alarmPeriod)
	require.Equal(t, "off", o.traceDaemon)
	require.Equal(t, "dist/local", o.binDir)

	_, err = parseFlags([]string{"--trace-daemon", "maybe", "extra"})
	require.ErrorContains(t, err, "--trace-daemon must be on or off")
	require.ErrorContains(t, err, "unexpected arguments: extra")
}

func TestInitSummaryIsTheLastLineOfMeasureInit(t *testing.T) {
	t.Parallel()
	require.Equal(t, "init: hello_ms=2.50 worst_ms=3.60 ratio=1.44", initSummary(2500*time.Microsecond, 3600*time.Microsecond))
	require.Equal(t, "init: hello_ms=12.50 worst_ms=29.50 ratio=2.36", initSummary(12500*time.Microsecond, 29500*time.Microsecond))
}
