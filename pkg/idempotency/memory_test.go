package idempotency_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/offload/offload/pkg/idempotency"
	"github.com/offload/offload/pkg/idempotency/idempotencytest"
)

// newBenchMemory is a memory store with the defaults, for a benchmark.
func newBenchMemory(b *testing.B) *idempotency.MemoryStore {
	b.Helper()
	s, err := idempotency.NewMemory()
	if err != nil {
		b.Fatal(err)
	}
	return s
}

func TestMemoryConformance(t *testing.T) {
	t.Parallel()
	idempotencytest.Run(t, func(t *testing.T, now func() time.Time) idempotency.Store {
		s, err := idempotency.NewMemory(idempotency.WithClock(now), idempotency.WithRetention(idempotencytest.Retention))
		require.NoError(t, err)
		return s
	})
}

func TestNewMemoryValidates(t *testing.T) {
	t.Parallel()
	_, err := idempotency.NewMemory(idempotency.WithRetention(0), idempotency.WithClock(nil))
	require.ErrorContains(t, err, "retention must be positive")
	require.ErrorContains(t, err, "clock must not be nil")
}

func TestLeaseFor(t *testing.T) {
	t.Parallel()
	require.Equal(t, time.Minute, idempotency.LeaseFor(context.Background(), 5*time.Second, time.Minute))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	l := idempotency.LeaseFor(ctx, 5*time.Second, time.Minute)
	require.Greater(t, l, 14*time.Second)
	require.LessOrEqual(t, l, 15*time.Second)
	past, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()
	require.Equal(t, 5*time.Second, idempotency.LeaseFor(past, 5*time.Second, time.Minute))
}

func TestHashPayloadAndStatus(t *testing.T) {
	t.Parallel()
	require.Equal(t, "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824", idempotency.HashPayload([]byte("hello")))
	require.Equal(t, "lease-expired", idempotency.StatusLeaseExpired.String())
	require.Equal(t, "Status(0)", idempotency.Status(0).String())
}

func BenchmarkMemoryBeginComplete(b *testing.B) {
	s := newBenchMemory(b)
	ctx := context.Background()
	keys := make([]string, b.N)
	for i := range keys {
		keys[i] = strconv.Itoa(i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		out, err := s.Begin(ctx, keys[i], "h", time.Minute)
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Complete(ctx, keys[i], out.Token, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMemoryBeginRelease(b *testing.B) {
	s := newBenchMemory(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		out, err := s.Begin(ctx, "k", "h", time.Minute)
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Release(ctx, "k", out.Token); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMemoryBeginCompleted(b *testing.B) {
	s := newBenchMemory(b)
	ctx := context.Background()
	out, err := s.Begin(ctx, "k", "h", time.Minute)
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Complete(ctx, "k", out.Token, []byte("result")); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if out, _ := s.Begin(ctx, "k", "h", time.Minute); out.Status != idempotency.StatusCompleted {
			b.Fatal(out.Status)
		}
	}
}
