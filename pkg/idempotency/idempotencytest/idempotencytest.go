package idempotencytest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/offload/offload/pkg/idempotency"
)

// Retention is the retention the constructor passed to Run must configure.
const Retention = time.Hour

// NewStore returns a fresh store whose clock is now (it must use now for every
// time decision) and whose retention is Retention. Stores may share
// state between calls: every subtest uses keys of its own.
type NewStore func(t *testing.T, now func() time.Time) idempotency.Store

// Clock is a manual clock, safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock at a whole second close to the real time, so
// that stores checking expiry against real TTL sweeps stay plausible.
func NewClock() *Clock { return &Clock{t: time.Now().Truncate(time.Second)} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

const lease = 30 * time.Second

func newKey(t *testing.T) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "conformance-" + hex.EncodeToString(b[:])
}

// Run runs the conformance suite against stores made by newStore.
func Run(t *testing.T, newStore NewStore) {
	setup := func(t *testing.T) (context.Context, idempotency.Store, *Clock, string) {
		t.Helper()
		c := NewClock()
		return context.Background(), newStore(t, c.Now), c, newKey(t)
	}

	t.Run("AcquireThenInProgress", func(t *testing.T) {
		t.Parallel()
		ctx, s, c, key := setup(t)
		out, err := s.Begin(ctx, key, "h1", lease)
		require.NoError(t, err)
		require.Equal(t, idempotency.StatusAcquired, out.Status)
		require.Equal(t, 1, out.Attempt)
		require.True(t, out.LeaseUntil.Equal(c.Now().Add(lease)), "lease until %s", out.LeaseUntil)

		c.Advance(lease - time.Second)
		again, err := s.Begin(ctx, key, "h1", lease)
		require.NoError(t, err)
		require.Equal(t, idempotency.StatusInProgress, again.Status)
		require.True(t, again.LeaseUntil.Equal(out.LeaseUntil), "the holder's lease is reported")
	})

	t.Run("CompleteStoresResult", func(t *testing.T) {
		t.Parallel()
		ctx, s, _, key := setup(t)
		held, err := s.Begin(ctx, key, "h1", lease)
		require.NoError(t, err)
		require.NoError(t, s.Complete(ctx, key, held.Token, []byte(`{"providerId":"p-1"}`)))
		out, err := s.Begin(ctx, key, "h1", lease)
		require.NoError(t, err)
		require.Equal(t, idempotency.StatusCompleted, out.Status)
		require.Equal(t, []byte(`{"providerId":"p-1"}`), out.Result)

		require.NoError(t, s.Complete(ctx, key, held.Token, []byte("other")), "a repeated Complete of the same attempt (a retried request) is a no-op")
		require.ErrorIs(t, s.Complete(ctx, key, "someone-else", []byte("other")), idempotency.ErrNotHeld, "completed once")
		require.ErrorIs(t, s.Release(ctx, key, held.Token), idempotency.ErrNotHeld)
		require.ErrorIs(t, s.MarkUnknown(ctx, key, held.Token, "x"), idempotency.ErrNotHeld)
		out, err = s.Begin(ctx, key, "h1", lease)
		require.NoError(t, err)
		require.Equal(t, []byte(`{"providerId":"p-1"}`), out.Result, "the first result stands")
	})

	t.Run("CompleteWithoutResult", func(t *testing.T) {
		t.Parallel()
		ctx, s, _, key := setup(t)
		held, err := s.Begin(ctx, key, "h1", lease)
		require.NoError(t, err)
		require.NoError(t, s.Complete(ctx, key, held.Token, nil))
		out, err := s.Begin(ctx, key, "h1", lease)
		require.NoError(t, err)
		require.Equal(t, idempotency.StatusCompleted, out.Status)
		require.Empty(t, out.Result)
	})

	t.Run("ReleaseAllowsAcquireAgain", func(t *testing.T) {
		t.Parallel()
		ctx, s, _, key := setup(t)
		held, err := s.Begin(ctx, key, "h1", lease)
		require.NoError(t, err)
		require.NoError(t, s.Release(ctx, key, held.Token))
		require.NoError(t, s.Release(ctx, key, held.Token), "a repeated Release of the same attempt (a retried request) is a no-op")
		require.ErrorIs(t, s.Complete(ctx, key, held.Token, nil), idempotency.ErrNotHeld, "released: nothing to complete")
		require.ErrorIs(t, s.MarkUnknown(ctx, key, held.Token, "x"), idempotency.ErrNotHeld)
		out, err := s.Begin(ctx, key, "h2", lease)
		require.NoError(t, err, "a released record holds nothing, whatever the payload")
		require.Equal(t, idempotency.StatusAcquired, out.Status)
		require.Equal(t, 1, out.Attempt)
		require.NotEqual(t, held.Token, out.Token)
		require.ErrorIs(t, s.Release(ctx, key, held.Token), idempotency.ErrLeaseLost, "the old attempt cannot release the new one's lease")
		require.NoError(t, s.Complete(ctx, key, out.Token, nil))
	})

	t.Run("ExpiredLeaseIsTakenOver", func(t *testing.T) {
		t.Parallel()
		ctx, s, c, key := setup(t)
		first, err := s.Begin(ctx, key, "h1", lease)
		require.NoError(t, err)
		c.Advance(lease + time.Second)
		out, err := s.Begin(ctx, key, "h1", 2*lease)
		require.NoError(t, err)
		require.Equal(t, idempotency.StatusLeaseExpired, out.Status)
		require.NotEqual(t, first.Token, out.Token, "a new attempt, a new token")
		require.Equal(t, 2, out.Attempt)
		require.True(t, out.LeaseUntil.Equal(c.Now().Add(2*lease)), "a fresh lease for the new holder")

		again, err := s.Begin(ctx, key, "h1", lease)
		require.NoError(t, err)
		require.Equal(t, idempotency.StatusInProgress, again.Status, "the new holder's lease protects it")

		c.Advance(2*lease + time.Second)
		third, err := s.Begin(ctx, key, "h1", lease)
		require.NoError(t, err)
		require.Equal(t, idempotency.StatusLeaseExpired, third.Status)
		require.Equal(t, 3, third.Attempt)
		require.NoError(t, s.Complete(ctx, key, third.Token, []byte("done")))
		done, err := s.Begin(ctx, key, "h1", lease)
		require.NoError(t, err)
		require.Equal(t, idempotency.StatusCompleted, done.Status)
	})

	t.Run("UnknownIsTerminal", func(t *testing.T) {
		t.Parallel()
		ctx, s, c, key := setup(t)
		held, err := s.Begin(ctx, key, "h1", lease)
		require.NoError(t, err)
		require.NoError(t, s.MarkUnknown(ctx, key, held.Token, "provider accepted? crash before complete"))
		require.NoError(t, s.MarkUnknown(ctx, key, held.Token, "provider accepted? crash before complete"), "repeated by the same attempt: a no-op")
		c.Advance(2 * lease)
		out, err := s.Begin(ctx, key, "h1", lease)
		require.NoError(t, err)
		require.Equal(t, idempotency.StatusUnknown, out.Status)
		require.Equal(t, "provider accepted? crash before complete", out.Reason)
		require.ErrorIs(t, s.Complete(ctx, key, held.Token, nil), idempotency.ErrNotHeld)
		require.ErrorIs(t, s.Release(ctx, key, held.Token), idempotency.ErrNotHeld)
		require.ErrorIs(t, s.MarkUnknown(ctx, key, "other", "again"), idempotency.ErrNotHeld)
	})

	t.Run("PayloadMismatchIsReported", func(t *testing.T) {
		t.Parallel()
		ctx, s, _, key := setup(t)
		held, err := s.Begin(ctx, key, "h1", lease)
		require.NoError(t, err)
		_, err = s.Begin(ctx, key, "h2", lease)
		require.ErrorIs(t, err, idempotency.ErrPayloadMismatch, "in progress")
		require.ErrorContains(t, err, key)
		require.NoError(t, s.Complete(ctx, key, held.Token, []byte("r")))
		_, err = s.Begin(ctx, key, "h2", lease)
		require.ErrorIs(t, err, idempotency.ErrPayloadMismatch, "completed")
		out, err := s.Begin(ctx, key, "h1", lease)
		require.NoError(t, err)
		require.Equal(t, idempotency.StatusCompleted, out.Status, "the mismatch changed nothing")
	})

	t.Run("RecordsExpireAfterRetention", func(t *testing.T) {
		t.Parallel()
		ctx, s, c, key := setup(t)
		held, err := s.Begin(ctx, key, "h1", lease)
		require.NoError(t, err)
		require.NoError(t, s.Complete(ctx, key, held.Token, []byte("r")))
		c.Advance(Retention - time.Second)
		out, err := s.Begin(ctx, key, "h1", lease)
		require.NoError(t, err)
		require.Equal(t, idempotency.StatusCompleted, out.Status, "kept for the retention period")
		c.Advance(2 * time.Second)
		out, err = s.Begin(ctx, key, "h2", lease)
		require.NoError(t, err, "an expired record is absent, whatever its payload")
		require.Equal(t, idempotency.StatusAcquired, out.Status)
	})

	t.Run("UnknownKeys", func(t *testing.T) {
		t.Parallel()
		ctx, s, _, key := setup(t)
		require.ErrorIs(t, s.Complete(ctx, key, "t", nil), idempotency.ErrNotHeld)
		require.ErrorIs(t, s.Release(ctx, key, "t"), idempotency.ErrNotHeld)
		require.ErrorIs(t, s.MarkUnknown(ctx, key, "t", "r"), idempotency.ErrNotHeld)
		_, err := s.Begin(ctx, "", "h", lease)
		require.Error(t, err)
		_, err = s.Begin(ctx, key, "h", 0)
		require.Error(t, err)
	})

	t.Run("StaleHolderIsFencedOut", func(t *testing.T) {
		t.Parallel()
		ctx, s, c, key := setup(t)
		stale, err := s.Begin(ctx, key, "h1", lease)
		require.NoError(t, err)
		require.NotEmpty(t, stale.Token)
		c.Advance(lease + time.Second)
		current, err := s.Begin(ctx, key, "h1", lease)
		require.NoError(t, err)
		require.Equal(t, idempotency.StatusLeaseExpired, current.Status)

		// The first attempt wakes up: whatever it does, the lease is not its own.
		require.ErrorIs(t, s.Complete(ctx, key, stale.Token, []byte("stale")), idempotency.ErrLeaseLost)
		require.ErrorIs(t, s.Release(ctx, key, stale.Token), idempotency.ErrLeaseLost)
		require.ErrorIs(t, s.MarkUnknown(ctx, key, stale.Token, "stale"), idempotency.ErrLeaseLost)
		err = s.Release(ctx, key, stale.Token)
		require.ErrorContains(t, err, key)
		require.ErrorContains(t, err, "another attempt")
		again, err := s.Begin(ctx, key, "h1", lease)
		require.NoError(t, err)
		require.Equal(t, idempotency.StatusInProgress, again.Status, "the stale release changed nothing")

		require.NoError(t, s.Complete(ctx, key, current.Token, []byte("current")))
		done, err := s.Begin(ctx, key, "h1", lease)
		require.NoError(t, err)
		require.Equal(t, []byte("current"), done.Result)
		require.ErrorIs(t, s.Complete(ctx, key, stale.Token, nil), idempotency.ErrNotHeld, "completed by another attempt")
	})

	t.Run("ClaimThatNeverStartedIsAcquiredAgain", func(t *testing.T) {
		t.Parallel()
		ctx, s, c, key := setup(t)
		// The holder claimed the key, did not start, and could not write its
		// Release (or died): its lease runs out.
		first, err := s.Begin(ctx, key, "h1", lease, idempotency.DeferStart())
		require.NoError(t, err)
		require.Equal(t, idempotency.StatusAcquired, first.Status)
		again, err := s.Begin(ctx, key, "h1", lease, idempotency.DeferStart())
		require.NoError(t, err)
		require.Equal(t, idempotency.StatusInProgress, again.Status, "the lease protects an unstarted claim too")

		c.Advance(lease + time.Second)
		second, err := s.Begin(ctx, key, "h1", 2*lease, idempotency.DeferStart())
		require.NoError(t, err)
		require.Equal(t, idempotency.StatusAcquired, second.Status, "never started: not done, acquired again — not lease-expired")
		require.Equal(t, 2, second.Attempt)
		require.NotEqual(t, first.Token, second.Token)
		require.True(t, second.LeaseUntil.Equal(c.Now().Add(2*lease)), "a fresh lease for the new holder")
		require.ErrorIs(t, s.Start(ctx, key, first.Token), idempotency.ErrLeaseLost, "the first attempt cannot start any more")
		require.ErrorIs(t, s.Release(ctx, key, first.Token), idempotency.ErrLeaseLost)

		// The second attempt starts: from now on an expiry is a possible side effect.
		require.NoError(t, s.Start(ctx, key, second.Token))
		require.NoError(t, s.Start(ctx, key, second.Token), "a repeated Start (a retried request) is a no-op")
		c.Advance(2*lease + time.Second)
		third, err := s.Begin(ctx, key, "h1", lease, idempotency.DeferStart())
		require.NoError(t, err)
		require.Equal(t, idempotency.StatusLeaseExpired, third.Status, "started, then expired: the work may have happened")
		require.Equal(t, 3, third.Attempt)
		require.NoError(t, s.Start(ctx, key, third.Token), "a takeover after a start is started already: Start is a no-op")

		// A takeover after a start never erases it, even when the new holder
		// defers its start and dies before calling Start.
		c.Advance(lease + time.Second)
		fourth, err := s.Begin(ctx, key, "h1", lease, idempotency.DeferStart())
		require.NoError(t, err)
		require.Equal(t, idempotency.StatusLeaseExpired, fourth.Status)
		c.Advance(lease + time.Second)
		fifth, err := s.Begin(ctx, key, "h1", lease, idempotency.DeferStart())
		require.NoError(t, err)
		require.Equal(t, idempotency.StatusLeaseExpired, fifth.Status, "the evidence of attempt 2's start is kept")
		require.NoError(t, s.MarkUnknown(ctx, key, fifth.Token, "attempt 2 started and its lease expired"))
	})

	t.Run("StartIsFencedAndBoundedByTheLease", func(t *testing.T) {
		t.Parallel()
		ctx, s, c, key := setup(t)
		require.ErrorIs(t, s.Start(ctx, key, "t"), idempotency.ErrNotHeld, "no record")
		held, err := s.Begin(ctx, key, "h1", lease, idempotency.DeferStart())
		require.NoError(t, err)
		require.Error(t, s.Start(ctx, key, ""), "an empty token holds nothing")
		require.ErrorIs(t, s.Start(ctx, key, "someone-else"), idempotency.ErrLeaseLost)

		// Its lease ran out before it started: it must not start, although
		// nobody took the key over yet.
		c.Advance(lease + time.Second)
		err = s.Start(ctx, key, held.Token)
		require.ErrorIs(t, err, idempotency.ErrLeaseLost)
		require.ErrorContains(t, err, key)
		next, err := s.Begin(ctx, key, "h1", lease, idempotency.DeferStart())
		require.NoError(t, err)
		require.Equal(t, idempotency.StatusAcquired, next.Status, "the refused Start changed nothing")
		require.NoError(t, s.Start(ctx, key, next.Token))
		require.NoError(t, s.Complete(ctx, key, next.Token, []byte("r")))
		require.ErrorIs(t, s.Start(ctx, key, next.Token), idempotency.ErrNotHeld, "completed: nothing to start")
		done, err := s.Begin(ctx, key, "h1", lease, idempotency.DeferStart())
		require.NoError(t, err)
		require.Equal(t, idempotency.StatusCompleted, done.Status)
		require.Equal(t, []byte("r"), done.Result)
	})

	t.Run("ClaimWithoutDeferStartCountsAsStarted", func(t *testing.T) {
		t.Parallel()
		ctx, s, c, key := setup(t)
		held, err := s.Begin(ctx, key, "h1", lease)
		require.NoError(t, err)
		require.NoError(t, s.Start(ctx, key, held.Token), "Start on a claim that did not defer is a no-op")
		c.Advance(lease + time.Second)
		out, err := s.Begin(ctx, key, "h1", lease, idempotency.DeferStart())
		require.NoError(t, err)
		require.Equal(t, idempotency.StatusLeaseExpired, out.Status, "without DeferStart the work may have started at Begin")

		// A key whose unstarted claim expired, taken over by a Begin without
		// DeferStart, counts as started from that Begin on.
		other := key + "-b"
		unstarted, err := s.Begin(ctx, other, "h1", lease, idempotency.DeferStart())
		require.NoError(t, err)
		c.Advance(lease + time.Second)
		taken, err := s.Begin(ctx, other, "h1", lease)
		require.NoError(t, err)
		require.Equal(t, idempotency.StatusAcquired, taken.Status)
		require.NotEqual(t, unstarted.Token, taken.Token)
		c.Advance(lease + time.Second)
		last, err := s.Begin(ctx, other, "h1", lease, idempotency.DeferStart())
		require.NoError(t, err)
		require.Equal(t, idempotency.StatusLeaseExpired, last.Status)
	})

	t.Run("ReleasedAfterStartIsAcquirable", func(t *testing.T) {
		t.Parallel()
		ctx, s, _, key := setup(t)
		held, err := s.Begin(ctx, key, "h1", lease, idempotency.DeferStart())
		require.NoError(t, err)
		require.NoError(t, s.Start(ctx, key, held.Token))
		require.NoError(t, s.Release(ctx, key, held.Token), "the provider refused: certainly not done")
		out, err := s.Begin(ctx, key, "h1", lease, idempotency.DeferStart())
		require.NoError(t, err)
		require.Equal(t, idempotency.StatusAcquired, out.Status)
		require.Equal(t, 1, out.Attempt)
	})

	t.Run("TokensAreUniquePerBegin", func(t *testing.T) {
		t.Parallel()
		ctx, s, _, key := setup(t)
		seen := map[string]bool{}
		for range 5 {
			out, err := s.Begin(ctx, key, "h1", lease)
			require.NoError(t, err)
			require.Equal(t, idempotency.StatusAcquired, out.Status)
			require.NotEmpty(t, out.Token)
			require.False(t, seen[out.Token], "token %s reused", out.Token)
			seen[out.Token] = true
			require.NoError(t, s.Release(ctx, key, out.Token))
		}
		_, err := s.Begin(ctx, key, "h1", lease)
		require.NoError(t, err)
		_, err = s.Begin(ctx, key, "h1", lease)
		require.NoError(t, err)
		require.Error(t, s.Complete(ctx, key, "", nil), "an empty token holds nothing")
	})

	t.Run("ConcurrentBeginAcquiresOnce", func(t *testing.T) {
		t.Parallel()
		ctx, s, _, key := setup(t)
		const callers = 8
		var wg sync.WaitGroup
		statuses := make(chan idempotency.Status, callers)
		errs := make(chan error, callers)
		for range callers {
			wg.Go(func() {
				out, err := s.Begin(ctx, key, "h1", lease)
				if err != nil {
					errs <- err
					return
				}
				statuses <- out.Status
			})
		}
		wg.Wait()
		close(statuses)
		close(errs)
		require.NoError(t, errors.Join(collect(errs)...))
		counts := map[idempotency.Status]int{}
		for st := range statuses {
			counts[st]++
		}
		require.Equal(t, map[idempotency.Status]int{idempotency.StatusAcquired: 1, idempotency.StatusInProgress: callers - 1}, counts)
	})
}

func collect(ch <-chan error) []error {
	var out []error
	for err := range ch {
		out = append(out, err)
	}
	return out
}
