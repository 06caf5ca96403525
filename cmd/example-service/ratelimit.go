package main

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// rateLimiter is a token bucket per API key id: each key may make perSecond
// requests a second on average and burst at once. Buckets exist only for
// the keys of the current secret (retain drops the others), so its size is
// bounded by the secret, not by what clients send. Safe for concurrent use.
type rateLimiter struct {
	perSecond rate.Limit
	burst     int
	now       func() time.Time

	mu    sync.Mutex
	byKey map[string]*rate.Limiter
}

func newRateLimiter(perSecond float64, burst int) *rateLimiter {
	return &rateLimiter{perSecond: rate.Limit(perSecond), burst: burst, now: time.Now, byKey: map[string]*rate.Limiter{}}
}

// allow takes a token from id's bucket. When the bucket is empty it takes
// nothing and says how long until a token is there.
func (l *rateLimiter) allow(id string) (time.Duration, bool) {
	l.mu.Lock()
	lim, ok := l.byKey[id]
	if !ok {
		lim = rate.NewLimiter(l.perSecond, l.burst)
		l.byKey[id] = lim
	}
	l.mu.Unlock()
	now := l.now()
	res := lim.ReserveN(now, 1)
	if !res.OK() { // burst 0: never
		return time.Hour, false
	}
	wait := res.DelayFrom(now)
	if wait == 0 {
		return 0, true
	}
	res.CancelAt(now)
	return wait, false
}

// retain drops the buckets of keys no longer in ids.
func (l *rateLimiter) retain(ids map[string]bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for id := range l.byKey {
		if !ids[id] {
			delete(l.byKey, id)
		}
	}
}

// retryAfterSeconds is wait as a Retry-After value: whole seconds, rounded
// up, at least 1.
func retryAfterSeconds(wait time.Duration) int {
	return max(1, int(math.Ceil(wait.Seconds())))
}
