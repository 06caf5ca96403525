package tracing_test

import (
	"encoding/json"
	"sync"
	"testing"

	"github.com/aws/aws-xray-sdk-go/v2/strategy/sampling"
	"github.com/stretchr/testify/require"

	"github.com/offload/offload/pkg/tracing"
	"github.com/offload/offload/pkg/tracing/tracingtest"
)

// The producer's trace these tests continue.
const (
	producerTrace = tracingtest.ProducerTrace
	producerSend  = tracingtest.ProducerSend
	producerHdr   = tracingtest.ProducerHeader
)

// recorder keeps every document sent, with accessors for these tests' maps.
type recorder struct{ *tracingtest.Recorder }

func (r *recorder) count() int { return len(r.Raw()) }

func (r *recorder) raw(i int) []byte { return r.Raw()[i] }

func (r *recorder) doc(t testing.TB, i int) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.raw(i), &m), "%s", r.raw(i))
	return m
}

// byName returns the documents named name.
func (r *recorder) byName(t testing.TB, name string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for i := range r.count() {
		if d := r.doc(t, i); d["name"] == name {
			out = append(out, d)
		}
	}
	return out
}

type fixedSampler struct{ sample bool }

func (f fixedSampler) ShouldTrace(*sampling.Request) *sampling.Decision {
	return &sampling.Decision{Sample: f.sample}
}

// missingRecorder counts context-missing reports.
type missingRecorder struct {
	mu   sync.Mutex
	msgs []string
}

func (m *missingRecorder) ContextMissing(v any) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.msgs = append(m.msgs, v.(string))
}

func (m *missingRecorder) n() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.msgs)
}

// newProvider is a provider of its own (tests run in parallel) sampling
// every new trace and recording its documents.
func newProvider(t testing.TB, opts ...func(*tracing.Config)) (*tracing.Provider, *recorder) {
	t.Helper()
	tp, rec := tracingtest.NewProvider(t, opts...)
	return tp, &recorder{rec}
}

func setup(t testing.TB) (tracing.Tracer, *recorder) {
	t.Helper()
	tp, rec := newProvider(t)
	return tracing.NewTracer(tp), rec
}
