// Package backoff is the one retry-delay helper of the repository: the
// exponential delay that pkg/batch (visibility), pkg/producer (send retries)
// and pkg/sms (store retries) grow, optional jitter, and a wait that ends
// with its context instead of blocking (no time.Sleep on a handler's path).
package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// Exponential is base × 2^(attempt−1), capped at limit: attempt 1 (or less)
// waits base. It never overflows: every attempt, up to math.MaxInt, gives a
// delay between base and limit, non-decreasing in the attempt. A base of 0 or
// less is 0; a limit below base caps base.
func Exponential(base, limit time.Duration, attempt int) time.Duration {
	base = min(max(base, 0), limit)
	d := base
	if d == 0 {
		return 0
	}
	for n := max(attempt-1, 0); n > 0 && d < limit; n-- {
		if d > limit/2 {
			return limit
		}
		d *= 2
	}
	return min(d, limit)
}

// HalfJitter is a random delay between d/2 and d (inclusive), so that clients
// failing together do not retry together.
func HalfJitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	half := d / 2
	return half + rand.N(d-half+1)
}

// Wait waits d, or until ctx ends; then it returns ctx's error.
func Wait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
