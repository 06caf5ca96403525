package otlp_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"

	"github.com/offload/offload/pkg/tracing"
	"github.com/offload/offload/pkg/tracing/otlp"
	"github.com/offload/offload/pkg/tracing/tracingtest"
)

// Spans reach an OTLP/HTTP collector at /v1/traces as protobuf, with the
// X-Ray trace id (its hex) of the span.
func TestSpansReachTheCollector(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var bodies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, r.URL.Path+" "+r.Header.Get("Content-Type")+" "+string(b))
		mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	ctx := context.Background()
	tp, err := otlp.NewProvider(ctx, tracing.Config{Sampling: tracingtest.Always{}},
		otlptracehttp.WithEndpointURL(srv.URL+"/v1/traces"), otlptracehttp.WithCompression(otlptracehttp.NoCompression))
	require.NoError(t, err)
	_, span := tracing.NewTracer(tp).Start(ctx, "otlp-service", tracing.WithKind(tracing.KindServer))
	span.Annotate("outcome", "success")
	span.End()
	require.NoError(t, tp.Close())

	mu.Lock()
	defer mu.Unlock()
	require.Len(t, bodies, 1)
	require.True(t, strings.HasPrefix(bodies[0], "/v1/traces application/x-protobuf "), bodies[0][:40])
	require.Contains(t, bodies[0], "otlp-service")
	require.Contains(t, bodies[0], "outcome")
}
