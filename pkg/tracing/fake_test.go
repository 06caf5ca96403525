package tracing_test

import (
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-xray-sdk-go/v2/strategy/sampling"
	"github.com/stretchr/testify/require"

	"github.com/offload/offload/pkg/tracing"
)

// recorder is a hand-written Emitter keeping every document.
type recorder struct {
	mu   sync.Mutex
	docs [][]byte
}

func (r *recorder) Emit(doc []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.docs = append(r.docs, append([]byte(nil), doc...))
	return nil
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.docs)
}

// raw returns document i as sent.
func (r *recorder) raw(t testing.TB, i int) string {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	require.Greater(t, len(r.docs), i, "document %d was not emitted", i)
	return string(r.docs[i])
}

// doc returns document i decoded (and fails when it is not valid JSON).
func (r *recorder) doc(t testing.TB, i int) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.raw(t, i)), &m))
	return m
}

// fixedSampler samples every new trace or none.
type fixedSampler struct{ sample bool }

func (s fixedSampler) ShouldTrace(*sampling.Request) *sampling.Decision {
	return &sampling.Decision{Sample: s.sample}
}

// countingMissing is a ctxmissing.Strategy counting its calls.
type countingMissing struct {
	mu    sync.Mutex
	calls []any
}

func (c *countingMissing) ContextMissing(v any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, v)
}

// clock starts at 2026-03-01T12:00:00Z and moves 1 ms per reading.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Millisecond)
	return c.t
}

type setupOpts struct {
	sample  bool
	missing *countingMissing
}

// setup returns an X-Ray tracer emitting into a recorder, sampling every new
// trace, on a clock whose first reading is 1772366400.001.
func setup(t testing.TB, opts ...func(*setupOpts)) (*tracing.XRay, *recorder) {
	t.Helper()
	o := setupOpts{sample: true, missing: &countingMissing{}}
	for _, f := range opts {
		f(&o)
	}
	rec := &recorder{}
	tr, err := tracing.NewXRay(tracing.Config{
		Emitter:        rec,
		Sampling:       fixedSampler{o.sample},
		ContextMissing: o.missing,
		Now:            newClock().now,
	})
	require.NoError(t, err)
	return tr, rec
}

// useDefault installs tr as the default tracer for the test. Tests calling
// it must not be parallel.
func useDefault(t *testing.T, tr tracing.Tracer) {
	t.Helper()
	tracing.SetDefault(tr)
	t.Cleanup(func() { tracing.SetDefault(nil) })
}

const (
	producerTrace = "1-5759e988-bd862e3fe1be46a994272793"
	producerSend  = "53995c3f42cd8ad8"
	producerHdr   = "Root=" + producerTrace + ";Parent=" + producerSend + ";Sampled=1"
)
