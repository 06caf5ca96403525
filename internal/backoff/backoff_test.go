package backoff

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestExponential(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		base, limit time.Duration
		attempt     int
		want        time.Duration
	}{
		{time.Second, time.Minute, 0, time.Second},
		{time.Second, time.Minute, 1, time.Second},
		{time.Second, time.Minute, 2, 2 * time.Second},
		{time.Second, time.Minute, 6, 32 * time.Second},
		{time.Second, time.Minute, 7, time.Minute},
		{time.Second, time.Minute, math.MaxInt, time.Minute},
		{0, time.Minute, 5, 0},
		{-time.Second, time.Minute, 5, 0},
		{time.Hour, time.Minute, 1, time.Minute},
	} {
		require.Equal(t, tc.want, Exponential(tc.base, tc.limit, tc.attempt), "%s %s %d", tc.base, tc.limit, tc.attempt)
	}
	prev := time.Duration(0)
	for n := 1; n < 200; n++ {
		d := Exponential(3*time.Millisecond, 12*time.Hour, n)
		require.GreaterOrEqual(t, d, prev, n)
		require.LessOrEqual(t, d, 12*time.Hour, n)
		prev = d
	}
}

func TestHalfJitter(t *testing.T) {
	t.Parallel()
	require.Zero(t, HalfJitter(0))
	for range 1000 {
		d := HalfJitter(10 * time.Millisecond)
		require.GreaterOrEqual(t, d, 5*time.Millisecond)
		require.LessOrEqual(t, d, 10*time.Millisecond)
	}
}

func TestWaitEndsWithItsContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, Wait(ctx, time.Hour), context.Canceled)
	require.NoError(t, Wait(context.Background(), time.Millisecond))
}
