package tracing_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-xray-sdk-go/v2/daemoncfg"
	"github.com/aws/aws-xray-sdk-go/v2/strategy/ctxmissing"
	"github.com/aws/aws-xray-sdk-go/v2/strategy/sampling"
	"github.com/stretchr/testify/require"

	"github.com/offload/offload/pkg/tracing"
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
	tr, err := tracing.NewXRay(tracing.Config{Daemon: d, Sampling: fixedSampler{true}})
	require.NoError(t, err)
	defer tr.Close()
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
	require.Zero(t, tr.EmitErrors())
}

// A document too big for one datagram sends its subsegments on their own.
func TestOversizedDocumentIsSplit(t *testing.T) {
	t.Parallel()
	conn, d := daemon(t)
	require.NoError(t, conn.SetReadBuffer(1<<20))
	tr, err := tracing.NewXRay(tracing.Config{Daemon: d, Sampling: fixedSampler{true}})
	require.NoError(t, err)
	defer tr.Close()
	ctx, seg := tr.Start(context.Background(), "svc", tracing.WithKind(tracing.KindServer))
	for range 4 {
		_, s := tr.Start(ctx, "big")
		s.Metadata("blob", strings.Repeat("x", 20000))
		s.End()
	}
	seg.End()
	var subsegments, segments int
	for range 5 {
		_, doc, _ := strings.Cut(readDatagram(t, conn), "\n")
		require.Less(t, len(doc), 64<<10)
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(doc), &m))
		if m["type"] == "subsegment" {
			subsegments++
			require.Equal(t, seg.Context().SpanID, m["parent_id"])
		} else {
			segments++
			require.NotContains(t, m, "subsegments")
		}
	}
	require.Equal(t, 4, subsegments)
	require.Equal(t, 1, segments)
}

func TestEmitFailuresAreCountedAndLoggedOnce(t *testing.T) {
	t.Parallel()
	var logged []string
	tr, err := tracing.NewXRay(tracing.Config{Emitter: failing{}, Sampling: fixedSampler{true}, Log: func(m string) { logged = append(logged, m) }})
	require.NoError(t, err)
	for range 3 {
		_, s := tr.Start(context.Background(), "svc", tracing.WithKind(tracing.KindServer))
		s.End()
	}
	require.Equal(t, int64(3), tr.EmitErrors())
	require.Len(t, logged, 1)
	require.Contains(t, logged[0], "daemon unreachable")
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

	rec := &recorder{}
	cfg.Emitter = rec
	tr, err := tracing.NewXRay(cfg)
	require.NoError(t, err)
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
