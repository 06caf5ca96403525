package sms

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/offload/offload/pkg/idempotency"
	"github.com/offload/offload/pkg/message"
)

type scriptedProvider struct {
	calls atomic.Int32
	mu    sync.Mutex
	errs  []error // consumed one per call; nil entries succeed
	sent  []Request
}

func (p *scriptedProvider) Name() string { return "fake" }

func (p *scriptedProvider) Send(_ context.Context, m Request) (Receipt, error) {
	n := p.calls.Add(1)
	p.mu.Lock()
	defer p.mu.Unlock()
	var err error
	if len(p.errs) > 0 {
		err, p.errs = p.errs[0], p.errs[1:]
	}
	if err != nil {
		return Receipt{}, err
	}
	p.sent = append(p.sent, m)
	return Receipt{Provider: "fake", ID: "msg-" + string(rune('0'+n))}, nil
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func newSender(t *testing.T, p Provider, opts ...SenderOption) (*Sender, *idempotency.MemoryStore, *clock) {
	t.Helper()
	clk := &clock{now: time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)}
	store, err := idempotency.NewMemory(idempotency.WithClock(clk.Now))
	require.NoError(t, err)
	// A short lease beyond the deadline, so that tests can let it expire.
	shortLease := WithLease(time.Second, 30*time.Second)
	s, err := NewSender(p, store, append([]SenderOption{shortLease}, opts...)...)
	require.NoError(t, err)
	return s, store, clk
}

var req = Request{RequestID: "r-1", To: "+447400123456", Body: "Your code is 123456"}

func TestRedeliveryOfASentRequestSendsNothing(t *testing.T) {
	t.Parallel()
	p := &scriptedProvider{}
	s, _, _ := newSender(t, p)
	res, err := s.Send(context.Background(), req)
	require.NoError(t, err)
	require.Equal(t, Sent, res.Status)
	require.Equal(t, "msg-1", res.Receipt.ID)
	for range 3 {
		res, err = s.Send(context.Background(), req)
		require.NoError(t, err)
		require.Equal(t, AlreadySent, res.Status)
		require.Equal(t, Receipt{Provider: "fake", ID: "msg-1"}, res.Receipt, "the first send's receipt")
	}
	require.EqualValues(t, 1, p.calls.Load())
}

func TestConcurrentDeliveriesSendOnce(t *testing.T) {
	t.Parallel()
	p := &scriptedProvider{}
	s, _, _ := newSender(t, p)
	var wg sync.WaitGroup
	var sent, busy atomic.Int32
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := s.Send(context.Background(), req)
			switch {
			case err == nil && res.Status == Sent:
				sent.Add(1)
			case errors.Is(err, ErrInProgress), err == nil && res.Status == AlreadySent:
				busy.Add(1)
			default:
				t.Errorf("unexpected %v %v", res, err)
			}
		}()
	}
	wg.Wait()
	require.EqualValues(t, 1, p.calls.Load())
	require.EqualValues(t, 1, sent.Load())
	require.EqualValues(t, 19, busy.Load())
}

func TestReusedIDWithOtherContentIsAConflict(t *testing.T) {
	t.Parallel()
	p := &scriptedProvider{}
	s, _, _ := newSender(t, p)
	_, err := s.Send(context.Background(), req)
	require.NoError(t, err)
	other := req
	other.Body = "another text"
	_, err = s.Send(context.Background(), other)
	require.ErrorIs(t, err, ErrConflict)
	require.EqualValues(t, 1, p.calls.Load())
}

func TestRejectedAndRetryableReleaseTheRequest(t *testing.T) {
	t.Parallel()
	p := &scriptedProvider{errs: []error{
		&Error{Provider: "fake", Kind: Retryable, Code: "20429", RetryAfter: 3 * time.Second},
		&Error{Provider: "fake", Kind: Rejected, Code: "21211"},
	}}
	s, _, _ := newSender(t, p)
	_, err := s.Send(context.Background(), req)
	require.Equal(t, Retryable, KindOf(err))
	d, ok := RetryAfterOf(err)
	require.True(t, ok)
	require.Equal(t, 3*time.Second, d)

	_, err = s.Send(context.Background(), req) // taken again at once: it was released
	require.Equal(t, Rejected, KindOf(err))

	res, err := s.Send(context.Background(), req) // still not held: a redrive can send it
	require.NoError(t, err)
	require.Equal(t, Sent, res.Status)
	require.EqualValues(t, 3, p.calls.Load())
	require.Len(t, p.sent, 1)
}

func TestNoAnswerIsReportedAndNeverResent(t *testing.T) {
	t.Parallel()
	p := &scriptedProvider{errs: []error{&Error{Provider: "fake", Kind: Unknown, Code: "no-response"}}}
	s, _, _ := newSender(t, p)
	_, err := s.Send(context.Background(), req)
	var u *UnknownOutcomeError
	require.ErrorAs(t, err, &u)
	require.Contains(t, u.Reason, "does not prove the text was refused")
	_, err = s.Send(context.Background(), req)
	require.ErrorAs(t, err, &u, "still unknown on redelivery")
	require.EqualValues(t, 1, p.calls.Load())
}

// A container dies after the provider accepted the text and before the record
// was completed: its lease expires and the next delivery reports it.
func TestCrashBetweenAcceptAndCompleteIsReportedNotResent(t *testing.T) {
	t.Parallel()
	p := &scriptedProvider{}
	s, store, clk := newSender(t, p)
	// The crashed attempt: lease taken, send started, provider called, nothing completed.
	held, err := store.Begin(context.Background(), req.RequestID, req.PayloadHash(), 5*time.Second, idempotency.DeferStart())
	require.NoError(t, err)
	require.NoError(t, store.Start(context.Background(), req.RequestID, held.Token))
	_, err = p.Send(context.Background(), Request{To: req.To, Body: req.Body})
	require.NoError(t, err)

	// A redelivery during the lease: busy, nothing sent.
	_, err = s.Send(context.Background(), req)
	require.ErrorIs(t, err, ErrInProgress)

	clk.Add(6 * time.Second)
	_, err = s.Send(context.Background(), req)
	var u *UnknownOutcomeError
	require.ErrorAs(t, err, &u)
	require.Contains(t, u.Reason, "lease expired")
	_, err = s.Send(context.Background(), req)
	require.ErrorAs(t, err, &u)
	require.EqualValues(t, 1, p.calls.Load(), "never sent twice")
}

func TestResendOnUnknownTakesOverAnExpiredLease(t *testing.T) {
	t.Parallel()
	p := &scriptedProvider{}
	s, store, clk := newSender(t, p, WithResendOnUnknown(true))
	_, err := store.Begin(context.Background(), req.RequestID, req.PayloadHash(), 5*time.Second)
	require.NoError(t, err)
	clk.Add(6 * time.Second)
	res, err := s.Send(context.Background(), req)
	require.NoError(t, err)
	require.Equal(t, Sent, res.Status)
	require.Equal(t, 2, res.Attempt)
}

type failingComplete struct{ idempotency.Store }

func (failingComplete) Complete(context.Context, string, string, []byte) error {
	return errors.New("dynamodb down")
}

func TestSentButUnrecordedStillCountsAsSent(t *testing.T) {
	t.Parallel()
	p := &scriptedProvider{}
	store, err := idempotency.NewMemory()
	require.NoError(t, err)
	var reported []string
	type key struct{}
	s, err := NewSender(p, failingComplete{store}, WithUnrecordedHandler(func(ctx context.Context, r Request, rec Receipt, err error) {
		reported = append(reported, r.RequestID+" "+rec.ID+" "+err.Error()+" "+ctx.Value(key{}).(string))
	}))
	require.NoError(t, err)
	res, err := s.Send(context.WithValue(context.Background(), key{}, "the record's logger"), req)
	require.NoError(t, err, "acknowledge: a retry would send again")
	require.Equal(t, Sent, res.Status)
	require.Equal(t, []string{"r-1 msg-1 dynamodb down the record's logger"}, reported, "the handler gets Send's context")
	_, err = s.Send(context.Background(), req)
	require.ErrorIs(t, err, ErrInProgress, "a redelivery meanwhile sends nothing")
	require.EqualValues(t, 1, p.calls.Load())
}

func TestRateLimitWithoutTimeLeftReleasesAndRetries(t *testing.T) {
	t.Parallel()
	p := &scriptedProvider{}
	s, _, _ := newSender(t, p, WithRate(0.001), WithSendTimeout(time.Millisecond, 0)) // one send, then a slot every 1000 s
	_, err := s.Send(context.Background(), req)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	second := Request{RequestID: "r-2", To: req.To, Body: "x"}
	_, err = s.Send(ctx, second)
	require.Equal(t, Retryable, KindOf(err))
	require.EqualValues(t, 1, p.calls.Load())
	// Released: the next delivery takes it again (still no slot, but not ErrInProgress).
	ctx2, cancel2 := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel2()
	_, err = s.Send(ctx2, second)
	require.Equal(t, Retryable, KindOf(err))
	require.NotErrorIs(t, err, ErrInProgress)
}

func TestSendValidatesFirst(t *testing.T) {
	t.Parallel()
	p := &scriptedProvider{}
	s, _, _ := newSender(t, p)
	_, err := s.Send(context.Background(), Request{RequestID: "x", To: "12", Body: "y"})
	var ve *message.ValidationError
	require.ErrorAs(t, err, &ve)
	require.Zero(t, p.calls.Load())
}

// A record with less time left than a provider call may take is not started:
// no lease, no call, a Retryable ErrNoTimeToSend for a later delivery.
func TestShortDeadlineIsNotStarted(t *testing.T) {
	t.Parallel()
	p := &scriptedProvider{}
	s, store, _ := newSender(t, p, WithSendTimeout(10*time.Second, time.Second))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := s.Send(ctx, req)
	require.ErrorIs(t, err, ErrNoTimeToSend)
	require.Equal(t, Retryable, KindOf(err))
	require.Zero(t, p.calls.Load(), "never started")
	out, err := store.Begin(context.Background(), req.RequestID, req.PayloadHash(), time.Minute)
	require.NoError(t, err)
	require.Equal(t, idempotency.StatusAcquired, out.Status, "no lease was left behind")

	// With time enough it goes out.
	require.NoError(t, store.Release(context.Background(), req.RequestID, out.Token))
	res, err := s.Send(context.Background(), req)
	require.NoError(t, err)
	require.Equal(t, Sent, res.Status)
}

// The wait for a send slot can use the time up: the lease is then released,
// not carried into a call that cannot finish.
func TestTimeUsedUpWaitingForASlotReleasesTheLease(t *testing.T) {
	t.Parallel()
	p := &scriptedProvider{}
	s, store, _ := newSender(t, p, WithRate(1), WithSendTimeout(2500*time.Millisecond, 0))
	_, err := s.Send(context.Background(), Request{RequestID: "r-0", To: req.To, Body: "x"}) // uses the burst
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_, err = s.Send(ctx, req) // passes the first check, waits ~1 s for its slot
	require.ErrorIs(t, err, ErrNoTimeToSend)
	require.EqualValues(t, 1, p.calls.Load(), "only the first request was sent")
	out, err := store.Begin(context.Background(), req.RequestID, req.PayloadHash(), time.Minute)
	require.NoError(t, err)
	require.Equal(t, idempotency.StatusAcquired, out.Status, "released: the next delivery takes it")
}

type deadlineProvider struct {
	scriptedProvider
	deadline time.Time
}

func (p *deadlineProvider) Send(ctx context.Context, m Request) (Receipt, error) {
	p.deadline, _ = ctx.Deadline()
	return p.scriptedProvider.Send(ctx, m)
}

func TestProviderCallIsBoundedBySendTimeout(t *testing.T) {
	t.Parallel()
	p := &deadlineProvider{}
	s, _, _ := newSender(t, p, WithSendTimeout(2*time.Second, 0))
	before := time.Now()
	_, err := s.Send(context.Background(), req)
	require.NoError(t, err)
	require.False(t, p.deadline.IsZero(), "the call has a deadline")
	require.False(t, p.deadline.After(time.Now().Add(2*time.Second)), "at most the send timeout away")
	require.True(t, p.deadline.After(before), "in the future when the call started")
}

// flakyRelease fails the first n releases, then lets them through.
type flakyRelease struct {
	idempotency.Store
	mu       sync.Mutex
	failures int
	calls    int
}

func (f *flakyRelease) Release(ctx context.Context, key, token string) error {
	f.mu.Lock()
	f.calls++
	fail := f.calls <= f.failures
	f.mu.Unlock()
	if fail {
		return errors.New("dynamodb: throttled")
	}
	return f.Store.Release(ctx, key, token)
}

// senderWithFlakyRelease is a Sender over a memory store whose first
// failures releases fail.
func senderWithFlakyRelease(t *testing.T, p Provider, failures int) (*Sender, *flakyRelease) {
	t.Helper()
	mem, err := idempotency.NewMemory()
	require.NoError(t, err)
	store := &flakyRelease{Store: mem, failures: failures}
	s, err := NewSender(p, store)
	require.NoError(t, err)
	return s, store
}

// A definite non-send whose release fails at first is retried until the
// record says "released": the next delivery sends it instead of finding it
// in progress (and, after the lease, reporting it as possibly sent).
func TestReleaseIsRetried(t *testing.T) {
	t.Parallel()
	p := &scriptedProvider{errs: []error{&Error{Provider: "fake", Kind: Retryable, Code: "20429"}}}
	s, store := senderWithFlakyRelease(t, p, 2)
	_, err := s.Send(context.Background(), req)
	require.Equal(t, Retryable, KindOf(err))
	require.NotContains(t, err.Error(), "release", "the release went through in the end")
	require.Equal(t, 3, store.calls)
	res, err := s.Send(context.Background(), req)
	require.NoError(t, err, "not in progress: released")
	require.Equal(t, Sent, res.Status)
	require.EqualValues(t, 2, p.calls.Load())
}

// A release that cannot be written at all is reported with the cause, after
// a bounded number of tries.
func TestReleaseThatCannotBeWrittenIsBoundedAndReported(t *testing.T) {
	t.Parallel()
	p := &scriptedProvider{errs: []error{&Error{Provider: "fake", Kind: Rejected, Code: "21211"}}}
	s, store := senderWithFlakyRelease(t, p, 1000)
	_, err := s.Send(context.Background(), req)
	require.Equal(t, Rejected, KindOf(err), "the provider's verdict stands")
	require.ErrorContains(t, err, "release sms r-1")
	require.Equal(t, 4, store.calls, "bounded")
}

// alwaysFailingRelease is a store whose Release never gets written.
type alwaysFailingRelease struct {
	idempotency.Store
	calls atomic.Int32
}

func (f *alwaysFailingRelease) Release(context.Context, string, string) error {
	f.calls.Add(1)
	return errors.New("dynamodb: throttled")
}

// A definite non-send before the provider call (here: the wait for a send
// slot used the time up) whose release can never be written: after the
// lease, the redelivery finds a record that says "not started" and sends it,
// once — not "in progress" and then unknown. Failed before the start mark:
// the redelivery was dead-lettered as unknown-outcome, nothing ever sent.
func TestReleaseThatCannotBeWrittenBeforeTheSendLeavesItNotSent(t *testing.T) {
	t.Parallel()
	p := &scriptedProvider{}
	clk := &clock{now: time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)}
	mem, err := idempotency.NewMemory(idempotency.WithClock(clk.Now))
	require.NoError(t, err)
	store := &alwaysFailingRelease{Store: mem}
	s, err := NewSender(p, store, WithLease(time.Second, 30*time.Second), WithRate(1), WithSendTimeout(2500*time.Millisecond, 0))
	require.NoError(t, err)
	_, err = s.Send(context.Background(), Request{RequestID: "r-0", To: req.To, Body: "x"}) // uses the burst
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_, err = s.Send(ctx, req) // waits ~1 s for its slot, then has too little time left
	require.ErrorIs(t, err, ErrNoTimeToSend)
	require.ErrorContains(t, err, "release sms r-1", "the release was tried and failed")
	require.GreaterOrEqual(t, store.calls.Load(), int32(4), "retried")
	_, err = s.Send(context.Background(), req)
	require.ErrorIs(t, err, ErrInProgress, "during the lease the record still holds the key")

	clk.Add(time.Minute) // the lease (≤ 3 s + 1 s) is over
	res, err := s.Send(context.Background(), req)
	require.NoError(t, err, "not started: taken over as not sent")
	require.Equal(t, Sent, res.Status)
	require.Equal(t, 2, res.Attempt)
	res, err = s.Send(context.Background(), req)
	require.NoError(t, err)
	require.Equal(t, AlreadySent, res.Status)
	require.EqualValues(t, 2, p.calls.Load(), "r-0 once, r-1 once")
	require.Len(t, p.sent, 2)
}

// failingStart is a store whose Start cannot be written.
type failingStart struct {
	idempotency.Store
	err error
}

func (f failingStart) Start(context.Context, string, string) error { return f.err }

// A send whose start cannot be recorded is not made: the provider is never
// called without the record saying so. Its release failing too, the record
// says "not started" and the redelivery after the lease sends it.
func TestSendIsNotMadeWhenItsStartCannotBeRecorded(t *testing.T) {
	t.Parallel()
	p := &scriptedProvider{}
	clk := &clock{now: time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)}
	mem, err := idempotency.NewMemory(idempotency.WithClock(clk.Now))
	require.NoError(t, err)
	s, err := NewSender(p, &alwaysFailingRelease{Store: failingStart{Store: mem, err: errors.New("dynamodb: 500")}}, WithLease(time.Second, 30*time.Second))
	require.NoError(t, err)
	_, err = s.Send(context.Background(), req)
	require.ErrorContains(t, err, "start sms r-1: not sent")
	require.NotEqual(t, Rejected, KindOf(err))
	var u *UnknownOutcomeError
	require.False(t, errors.As(err, &u), "nothing was sent: not an unknown outcome")
	require.Zero(t, p.calls.Load())

	healthy, err := NewSender(p, mem, WithLease(time.Second, 30*time.Second))
	require.NoError(t, err)
	clk.Add(time.Minute)
	res, err := healthy.Send(context.Background(), req)
	require.NoError(t, err)
	require.Equal(t, Sent, res.Status)
	require.EqualValues(t, 1, p.calls.Load())
}

// A holder whose Start is refused because another delivery took the key
// over sends nothing and releases nothing.
func TestStartRefusedForALostLeaseSendsNothing(t *testing.T) {
	t.Parallel()
	p := &scriptedProvider{}
	mem, err := idempotency.NewMemory()
	require.NoError(t, err)
	s, err := NewSender(p, failingStart{Store: mem, err: fmt.Errorf("start r-1: %w", idempotency.ErrLeaseLost)})
	require.NoError(t, err)
	_, err = s.Send(context.Background(), req)
	require.ErrorIs(t, err, ErrInProgress)
	require.Zero(t, p.calls.Load())
	_, err = s.Send(context.Background(), req)
	require.ErrorIs(t, err, ErrInProgress, "not released: the lease is not this attempt's to give back")
}

// After the send started, a definite refusal whose release cannot be written
// still ends as unknown: the record says a send started and nothing else
// can say otherwise. Reported, never resent.
func TestReleaseThatCannotBeWrittenAfterTheStartIsReportedAsUnknown(t *testing.T) {
	t.Parallel()
	p := &scriptedProvider{errs: []error{&Error{Provider: "fake", Kind: Retryable, Code: "20429"}}}
	clk := &clock{now: time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)}
	mem, err := idempotency.NewMemory(idempotency.WithClock(clk.Now))
	require.NoError(t, err)
	s, err := NewSender(p, &alwaysFailingRelease{Store: mem}, WithLease(time.Second, 30*time.Second))
	require.NoError(t, err)
	_, err = s.Send(context.Background(), req)
	require.Equal(t, Retryable, KindOf(err))
	clk.Add(time.Minute)
	_, err = s.Send(context.Background(), req)
	var u *UnknownOutcomeError
	require.ErrorAs(t, err, &u)
	require.Contains(t, u.Reason, "started sending")
	require.EqualValues(t, 1, p.calls.Load())
}

// A request older than the store keeps its records is refused before any
// store call: an earlier send's record may be gone.
func TestRequestOlderThanTheRetentionIsRefused(t *testing.T) {
	t.Parallel()
	p := &scriptedProvider{}
	store, err := idempotency.NewMemory(idempotency.WithRetention(time.Hour))
	require.NoError(t, err)
	s, err := NewSender(p, store)
	require.NoError(t, err)
	_, err = s.Send(context.Background(), req, EnqueuedAt(time.Now().Add(-time.Hour+RetentionMargin/2)))
	var e *ExpiredError
	require.ErrorAs(t, err, &e, "within the margin of the retention: refused")
	require.Equal(t, time.Hour, e.Retention)
	require.Contains(t, e.Error(), "sms request r-1: first enqueued 57m")
	require.Contains(t, e.Error(), "(1h0m0s, less a 5m0s margin)")
	require.Zero(t, p.calls.Load())

	res, err := s.Send(context.Background(), req, EnqueuedAt(time.Now().Add(-50*time.Minute)))
	require.NoError(t, err)
	require.Equal(t, Sent, res.Status)
	res, err = s.Send(context.Background(), req)
	require.NoError(t, err, "no enqueue time: not judged")
	require.Equal(t, AlreadySent, res.Status)
}
