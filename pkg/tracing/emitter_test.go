package tracing_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-xray-sdk-go/v2/daemoncfg"
	"github.com/aws/aws-xray-sdk-go/v2/strategy/ctxmissing"
	"github.com/aws/aws-xray-sdk-go/v2/strategy/sampling"
	"github.com/stretchr/testify/require"

	"github.com/offload/offload/pkg/tracing"
	"github.com/offload/offload/pkg/tracing/tracingtest"
)

// daemon is a UDP listener standing in for the X-Ray daemon.
func daemon(t testing.TB) (*net.UDPConn, *daemoncfg.DaemonEndpoints) {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	addr := conn.LocalAddr().(*net.UDPAddr)
	return conn, &daemoncfg.DaemonEndpoints{UDPAddr: addr, TCPAddr: &net.TCPAddr{IP: addr.IP, Port: addr.Port}}
}

func readDatagram(t testing.TB, conn *net.UDPConn) string {
	t.Helper()
	buf := make([]byte, 65536)
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(5*time.Second)))
	n, _, err := conn.ReadFromUDP(buf)
	require.NoError(t, err)
	return string(buf[:n])
}

// What reaches the daemon: the header line, then the document.
func TestUDPEmitterSpeaksTheDaemonProtocol(t *testing.T) {
	t.Parallel()
	conn, d := daemon(t)
	tp, err := tracing.NewProvider(tracing.Config{Daemon: d, Sampling: fixedSampler{true}})
	require.NoError(t, err)
	defer tp.Close()
	tr := tracing.NewTracer(tp)
	_, seg := tr.Start(context.Background(), "svc", tracing.WithKind(tracing.KindServer))
	seg.Annotate("k", "v")
	seg.End()

	got := readDatagram(t, conn)
	header, doc, ok := strings.Cut(got, "\n")
	require.True(t, ok)
	require.Equal(t, `{"format": "json", "version": 1}`, header)
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(doc), &m))
	require.Equal(t, seg.Context().SpanID, m["id"])
	require.Equal(t, seg.Context().TraceID, m["trace_id"])
	require.Equal(t, map[string]any{"k": "v"}, m["annotations"])
	require.Zero(t, tp.Exporter().EmitErrors())
}

// A document too big for one datagram is sent without its metadata.
func TestOversizedDocumentDropsMetadata(t *testing.T) {
	t.Parallel()
	tr, rec := setup(t)
	_, seg := tr.Start(context.Background(), "svc", tracing.WithKind(tracing.KindServer))
	seg.Annotate("kept", "yes")
	seg.Metadata("big", strings.Repeat("x", 70<<10))
	seg.End()
	require.Equal(t, 1, rec.count())
	d := rec.doc(t, 0)
	require.Equal(t, map[string]any{"kept": "yes"}, d["annotations"])
	require.Nil(t, d["metadata"])
	require.Less(t, len(rec.raw(0)), 64<<10)
}

// Emit failures are counted and the first is logged; the span's caller never
// sees them.
func TestEmitFailuresAreCountedAndLoggedOnce(t *testing.T) {
	t.Parallel()
	var logs []string
	var mu sync.Mutex
	tp, err := tracing.NewProvider(tracing.Config{Emitter: failing{}, Sampling: fixedSampler{true}, Log: func(m string) {
		mu.Lock()
		logs = append(logs, m)
		mu.Unlock()
	}})
	require.NoError(t, err)
	tr := tracing.NewTracer(tp)
	for range 3 {
		_, s := tr.Start(context.Background(), "svc", tracing.WithKind(tracing.KindServer))
		s.End()
	}
	require.EqualValues(t, 3, tp.Exporter().EmitErrors())
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, logs, 1)
	require.Contains(t, logs[0], "daemon unreachable")
}

type failing struct{}

func (failing) Emit([]byte) error { return errors.New("daemon unreachable") }

// Not parallel: t.Setenv.
func TestConfigFromEnv(t *testing.T) {
	t.Setenv(tracing.EnvDaemonAddress, "tcp:127.0.0.1:3000 udp:127.0.0.1:3001")
	t.Setenv(tracing.EnvContextMissing, "RUNTIME_ERROR")
	t.Setenv(tracing.EnvTracingName, "svc-name")
	t.Setenv(tracing.EnvSampling, "local")
	t.Setenv(tracing.EnvSamplingRules, `{"version":2,"default":{"fixed_target":0,"rate":0},"rules":[]}`)
	cfg, err := tracing.ConfigFromEnv()
	require.NoError(t, err)
	require.Equal(t, 3001, cfg.Daemon.UDPAddr.Port)
	require.Equal(t, 3000, cfg.Daemon.TCPAddr.Port)
	require.IsType(t, &ctxmissing.DefaultLogErrorStrategy{}, cfg.ContextMissing, "RUNTIME_ERROR is read as LOG_ERROR: never panic")
	require.Equal(t, "svc-name", cfg.ServiceName)
	require.IsType(t, &sampling.LocalizedStrategy{}, cfg.Sampling)
	require.False(t, cfg.Sampling.ShouldTrace(&sampling.Request{}).Sample, "the rules file samples nothing")
	require.False(t, cfg.Disabled)

	rec := &recorder{&tracingtest.Recorder{}}
	cfg.Emitter = rec
	tp, err := tracing.NewProvider(cfg)
	require.NoError(t, err)
	tr := tracing.NewTracer(tp)
	_, s := tr.Start(context.Background(), "ignored", tracing.WithKind(tracing.KindServer), tracing.RemoteParent(producerHdr))
	s.End()
	require.Equal(t, "svc-name", rec.doc(t, 0)["name"], "AWS_XRAY_TRACING_NAME names service entries")
}

func TestConfigFromEnvRulesFileAndDefaults(t *testing.T) {
	rules := filepath.Join(t.TempDir(), "rules.json")
	require.NoError(t, os.WriteFile(rules, []byte(`{"version":2,"default":{"fixed_target":1,"rate":1},"rules":[]}`), 0o600))
	t.Setenv(tracing.EnvDaemonAddress, "")
	t.Setenv(tracing.EnvContextMissing, "ignore_error")
	t.Setenv(tracing.EnvSampling, "")
	t.Setenv(tracing.EnvSamplingRules, rules)
	t.Setenv(tracing.EnvDisabled, "")
	cfg, err := tracing.ConfigFromEnv()
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:2000", cfg.Daemon.UDPAddr.String(), "the SDK's default daemon address")
	require.IsType(t, &ctxmissing.DefaultIgnoreErrorStrategy{}, cfg.ContextMissing)
	require.IsType(t, &sampling.CentralizedStrategy{}, cfg.Sampling, "centralized by default, the rules file as fallback")
}

func TestConfigFromEnvReportsEveryProblem(t *testing.T) {
	t.Setenv(tracing.EnvDaemonAddress, "not an address")
	t.Setenv(tracing.EnvContextMissing, "SOMETIMES")
	t.Setenv(tracing.EnvDisabled, "maybe")
	t.Setenv(tracing.EnvSampling, "random")
	t.Setenv(tracing.EnvSamplingRules, filepath.Join(t.TempDir(), "missing.json"))
	_, err := tracing.ConfigFromEnv()
	require.Error(t, err)
	for _, want := range []string{tracing.EnvDaemonAddress, tracing.EnvContextMissing, tracing.EnvDisabled, tracing.EnvSampling, tracing.EnvSamplingRules} {
		require.ErrorContains(t, err, want)
	}
}

func TestConfigFromEnvDisabled(t *testing.T) {
	t.Setenv(tracing.EnvDisabled, "true")
	cfg, err := tracing.ConfigFromEnv()
	require.NoError(t, err)
	require.True(t, cfg.Disabled)
}

func TestNewSamplingRejectsBadRules(t *testing.T) {
	t.Parallel()
	_, err := tracing.NewSampling(true, []byte(`{"version":9}`), nil)
	require.Error(t, err)
	s, err := tracing.NewSampling(true, nil, nil)
	require.NoError(t, err)
	require.True(t, s.ShouldTrace(&sampling.Request{}).Sample, "the SDK's default takes the first request each second")
}
