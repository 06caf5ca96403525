package sms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"golang.org/x/time/rate"

	"github.com/offload/offload/internal/backoff"
	"github.com/offload/offload/pkg/idempotency"
	"github.com/offload/offload/pkg/message"
)

// Status says what Sender.Send did.
type Status int

const (
	// Sent: the provider accepted the text now.
	Sent Status = iota + 1
	// AlreadySent: an earlier delivery of the same request sent it; nothing
	// was sent now.
	AlreadySent
)

// String is the status as logged: sent or already-sent.
func (s Status) String() string {
	switch s {
	case Sent:
		return "sent"
	case AlreadySent:
		return "already-sent"
	}
	return "unknown"
}

// Result is a successful Send.
type Result struct {
	Status  Status
	Receipt Receipt
	// Attempt is the idempotency lease count: 1 on a first send.
	Attempt int
}

// Errors Send returns, besides the provider's *Error.
var (
	// ErrInProgress: another delivery of the request holds the lease right
	// now. Retry later; do not send.
	ErrInProgress = errors.New("sms request is being sent by another delivery")
	// ErrConflict: the request id was used before for another destination,
	// body or sender. Permanent; Send returns it as a *ConflictError.
	ErrConflict = errors.New("sms request id reused with different content")
	// ErrNoTimeToSend: the record had less time left than the provider call
	// may take (the send timeout plus a margin), so the send was not started
	// and the lease, if taken, released. Transient: nothing was attempted, a
	// later delivery sends it. Returned inside a Retryable *Error.
	ErrNoTimeToSend = errors.New("not enough time left to send: not started")
)

// ConflictError says the request id was used before for another
// destination, body or sender: the earlier request is not overwritten and
// this one is not sent. Permanent, class message.ClassConflict;
// errors.Is(err, ErrConflict) holds.
type ConflictError struct {
	RequestID string
}

// Error names the reused request id, not the content.
func (e *ConflictError) Error() string {
	return fmt.Sprintf("requestId %s was used before for a different number, body or sender", e.RequestID)
}

// Is matches ErrConflict.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// FailureClass is message.ClassConflict.
func (e *ConflictError) FailureClass() string { return message.ClassConflict }

// Permanent is always true: the same id keeps standing for the first content.
func (e *ConflictError) Permanent() bool { return true }

// RetentionMargin is kept off the idempotency retention when judging a
// request's age: an allowance for the clocks of SQS (SentTimestamp) and of
// the function differing.
const RetentionMargin = 5 * time.Minute

// ExpiredError says a request was first enqueued longer ago than the
// idempotency store keeps its records (less RetentionMargin): its record, if
// it was ever sent, may be gone, so sending it could send it twice. It is
// not sent. Permanent (class message.ClassExpired).
type ExpiredError struct {
	RequestID  string
	EnqueuedAt time.Time
	Age        time.Duration
	Retention  time.Duration
}

// Error names the request, its age and the retention.
func (e *ExpiredError) Error() string {
	return fmt.Sprintf("sms request %s: first enqueued %s ago (%s), longer than idempotency records are kept (%s, less a %s margin): an earlier send could not be detected, not sent",
		e.RequestID, e.Age.Round(time.Second), e.EnqueuedAt.UTC().Format(time.RFC3339), e.Retention, RetentionMargin)
}

// FailureClass is message.ClassExpired.
func (e *ExpiredError) FailureClass() string { return message.ClassExpired }

// Permanent is always true: the request only gets older.
func (e *ExpiredError) Permanent() bool { return true }

// SendOption qualifies one Send.
type SendOption func(*sendOptions)

type sendOptions struct {
	enqueuedAt time.Time
}

// EnqueuedAt tells Send when the request was first enqueued (the queue
// message's message.AttrFirstEnqueuedAt, else its SentTimestamp:
// batch.FirstEnqueuedAt). When the store reports its retention
// (idempotency.Retainer), a request older than that is refused with
// *ExpiredError instead of risking a second text.
func EnqueuedAt(t time.Time) SendOption { return func(o *sendOptions) { o.enqueuedAt = t } }

// UnknownOutcomeError says the text may or may not have been sent — a
// previous attempt died between the provider accepting it and the record
// being completed, or the provider never answered — and that the sender will
// not send it again. Permanent, class message.ClassUnknownOutcome: report
// it, a human decides.
type UnknownOutcomeError struct {
	RequestID string
	Reason    string
}

// Error names the request and why its outcome is unknown.
func (e *UnknownOutcomeError) Error() string {
	return fmt.Sprintf("sms request %s: outcome unknown, not resent: %s", e.RequestID, e.Reason)
}

// FailureClass is message.ClassUnknownOutcome.
func (e *UnknownOutcomeError) FailureClass() string { return message.ClassUnknownOutcome }

// Permanent is always true: the sender never resends it by itself.
func (e *UnknownOutcomeError) Permanent() bool { return true }

// Sender sends each request at most once, however often it is delivered.
// It is safe for concurrent use; build one per container.
type Sender struct {
	provider        Provider
	store           idempotency.Store
	limiter         *rate.Limiter
	resendOnUnknown bool
	leaseExtra      time.Duration // lease beyond the invocation's deadline (5 s)
	leaseFallback   time.Duration // lease when ctx has no deadline (1 min)
	storeTries      int
	storeWait       time.Duration
	sendTimeout     time.Duration
	sendMargin      time.Duration
	onUnrecorded    func(ctx context.Context, r Request, rec Receipt, err error)
}

// Defaults of WithSendTimeout.
const (
	// DefaultSendTimeout bounds one provider call.
	DefaultSendTimeout = 10 * time.Second
	// DefaultSendMargin is the time kept beyond the send timeout for
	// recording the outcome.
	DefaultSendMargin = 500 * time.Millisecond
)

// SenderOption configures a Sender.
type SenderOption func(*Sender)

// WithRate limits this container to perSecond sends (burst 1), protecting the
// provider account. 0 means no limit.
func WithRate(perSecond float64) SenderOption {
	return func(s *Sender) {
		if perSecond > 0 {
			s.limiter = rate.NewLimiter(rate.Limit(perSecond), 1)
		}
	}
}

// WithResendOnUnknown makes the sender send again when an earlier attempt's
// outcome is unknown: at-least-once instead of at-most-once, for users who
// prefer a possible duplicate to a possibly lost text.
func WithResendOnUnknown(on bool) SenderOption { return func(s *Sender) { s.resendOnUnknown = on } }

// WithLease sets how long a claim outlives the invocation's deadline (extra,
// default 5 s) and the claim's length when the context has no deadline
// (fallback, default 1 min: a service calling Send outside Lambda). A shorter
// lease hands a crashed attempt's request on sooner, as "unknown" once its
// send started and as "not sent" before that.
func WithLease(extra, fallback time.Duration) SenderOption {
	return func(s *Sender) { s.leaseExtra, s.leaseFallback = extra, fallback }
}

// WithSendTimeout bounds each provider call to timeout and refuses to start
// one when the context has less than timeout+margin left: a call cut at the
// record's deadline would leave an unknown outcome, while a record that is
// not started is released and retried later (ErrNoTimeToSend). Set timeout to
// the provider client's own timeout (Twilio's HTTP client timeout). Defaults:
// DefaultSendTimeout, DefaultSendMargin.
func WithSendTimeout(timeout, margin time.Duration) SenderOption {
	return func(s *Sender) { s.sendTimeout, s.sendMargin = timeout, margin }
}

// WithUnrecordedHandler is called when a text was sent but its completion
// could not be recorded (the idempotency store failed three times). The send
// still counts as done; the handler should log it, with the logger of ctx
// (the Send's context: logging.FromContext has the record's fields).
func WithUnrecordedHandler(f func(ctx context.Context, r Request, rec Receipt, err error)) SenderOption {
	return func(s *Sender) { s.onUnrecorded = f }
}

// NewSender returns a Sender sending through provider, guarded by store.
func NewSender(provider Provider, store idempotency.Store, opts ...SenderOption) (*Sender, error) {
	if provider == nil || store == nil {
		return nil, errors.New("sms: NewSender needs a provider and an idempotency store")
	}
	s := &Sender{provider: provider, store: store, leaseExtra: 5 * time.Second, leaseFallback: time.Minute,
		storeTries: 4, storeWait: 50 * time.Millisecond, sendTimeout: DefaultSendTimeout, sendMargin: DefaultSendMargin}
	for _, o := range opts {
		o(s)
	}
	if s.sendTimeout <= 0 || s.sendMargin < 0 {
		return nil, fmt.Errorf("sms: send timeout must be positive and margin not negative, got %s and %s", s.sendTimeout, s.sendMargin)
	}
	return s, nil
}

// fresh refuses a request first enqueued longer ago than the store keeps
// its records: a record is never written before its request was enqueued,
// and kept for the retention after its last write, so a younger request
// always finds the record of an earlier send.
func (s *Sender) fresh(r Request, enqueuedAt time.Time) error {
	rs, ok := s.store.(idempotency.Retainer)
	if !ok || enqueuedAt.IsZero() {
		return nil
	}
	retention := rs.Retention()
	if age := time.Since(enqueuedAt); age > retention-RetentionMargin {
		return &ExpiredError{RequestID: r.RequestID, EnqueuedAt: enqueuedAt, Age: age, Retention: retention}
	}
	return nil
}

// timeToSend returns ErrNoTimeToSend (as a Retryable *Error) when ctx ends
// before a provider call could finish and its outcome be recorded.
func (s *Sender) timeToSend(ctx context.Context, r Request) error {
	dl, ok := ctx.Deadline()
	if !ok {
		return nil
	}
	if left := time.Until(dl); left < s.sendTimeout+s.sendMargin {
		return &Error{Provider: s.provider.Name(), Kind: Retryable, Code: "no-time",
			Message: fmt.Sprintf("request %s: %s left, a send needs %s", r.RequestID, left.Round(time.Millisecond), s.sendTimeout+s.sendMargin),
			Err:     ErrNoTimeToSend}
	}
	return nil
}

// maxStoreWait caps the wait between finishing store calls (a record's time
// ends long before).
const maxStoreWait = 10 * time.Second

// retryStore runs a finishing store call (Complete, Release, MarkUnknown) up
// to storeTries times, waiting between tries unless ctx ends first. The call
// itself runs without ctx's cancellation: the outcome must be recorded even
// when the record's time is up. ErrNotHeld and ErrLeaseLost are answers, not
// failures: they are not retried.
func (s *Sender) retryStore(ctx context.Context, call func(context.Context) error) error {
	cleanup := context.WithoutCancel(ctx)
	var err error
	for i := range s.storeTries {
		if err = call(cleanup); err == nil || errors.Is(err, idempotency.ErrNotHeld) || errors.Is(err, idempotency.ErrLeaseLost) {
			return err
		}
		if i == s.storeTries-1 {
			break
		}
		if backoff.Wait(ctx, backoff.Exponential(s.storeWait, maxStoreWait, i+1)) != nil {
			// Out of time to wait: one last immediate try.
			return call(cleanup)
		}
	}
	return err
}

// release gives the lease back after a definite non-send. A release that
// cannot be written leaves the record in progress until its lease ends: when
// the send had not started (no Start was written), the next delivery after
// the lease takes the record over as not sent and sends; after a Start (the
// provider refused, or too little time was left once started) it reports the
// request as unknown, never resends. The error is joined to cause.
func (s *Sender) release(ctx context.Context, r Request, token string, cause error) error {
	if err := s.retryStore(ctx, func(c context.Context) error { return s.store.Release(c, r.RequestID, token) }); err != nil {
		return errors.Join(cause, fmt.Errorf("release sms %s: %w", r.RequestID, err))
	}
	return cause
}

// start records, fenced by token, that the send begins (Store.Start), then
// checks once more that the provider call can finish in time. Any error
// means the provider is not called: a lease lost to another delivery is
// ErrInProgress; a Start that could not be written is released (best
// effort: if the release fails too, the record still says "not started").
func (s *Sender) start(ctx context.Context, r Request, token string) error {
	if err := s.store.Start(ctx, r.RequestID, token); err != nil {
		if errors.Is(err, idempotency.ErrLeaseLost) {
			return fmt.Errorf("%w: %s: %w", ErrInProgress, r.RequestID, err)
		}
		return s.release(ctx, r, token, fmt.Errorf("start sms %s: not sent: %w", r.RequestID, err))
	}
	if err := s.timeToSend(ctx, r); err != nil {
		return s.release(ctx, r, token, err) // the Start write used the time up
	}
	return nil
}

// Send sends r unless an earlier delivery did. The error is one of: a
// *message.ValidationError, *ConflictError, *ExpiredError and
// *UnknownOutcomeError (permanent), a provider *Error (its Kind says: Rejected is permanent,
// Retryable transient; a Retryable wrapping ErrNoTimeToSend was never
// started), ErrInProgress or a store error (transient). The permanent ones
// and the provider's *Error say their failure class and permanence
// (FailureClass, Permanent), so a pkg/batch handler returns them as they are.
func (s *Sender) Send(ctx context.Context, r Request, opts ...SendOption) (Result, error) {
	if err := r.Validate(); err != nil {
		return Result{}, err
	}
	var so sendOptions
	for _, o := range opts {
		o(&so)
	}
	if err := s.fresh(r, so.enqueuedAt); err != nil {
		return Result{}, err
	}
	if err := s.timeToSend(ctx, r); err != nil {
		return Result{}, err // not started: nothing to release
	}
	lease := idempotency.LeaseFor(ctx, s.leaseExtra, s.leaseFallback)
	// The claim says "not started" until start() is written right before
	// the provider call: a lease that runs out before then (a crash, a
	// timeout, a release that could not be written) is taken over as not
	// sent.
	out, err := s.store.Begin(ctx, r.RequestID, r.PayloadHash(), lease, idempotency.DeferStart())
	switch {
	case errors.Is(err, idempotency.ErrPayloadMismatch):
		return Result{}, &ConflictError{RequestID: r.RequestID}
	case err != nil:
		return Result{}, fmt.Errorf("begin sms %s: %w", r.RequestID, err)
	}
	switch out.Status {
	case idempotency.StatusCompleted:
		var rec Receipt
		_ = json.Unmarshal(out.Result, &rec)
		return Result{Status: AlreadySent, Receipt: rec, Attempt: out.Attempt}, nil
	case idempotency.StatusInProgress:
		return Result{}, fmt.Errorf("%w: %s (lease until %s)", ErrInProgress, r.RequestID, out.LeaseUntil.UTC().Format(time.RFC3339))
	case idempotency.StatusUnknown:
		// Reported once already; a record marked unknown is never taken over,
		// even with WithResendOnUnknown (which acts before marking).
		return Result{}, &UnknownOutcomeError{RequestID: r.RequestID, Reason: out.Reason}
	case idempotency.StatusLeaseExpired:
		if !s.resendOnUnknown {
			reason := fmt.Sprintf("attempt %d's lease expired after it started sending and before it was completed: the provider may have sent it", out.Attempt-1)
			if err := s.retryStore(ctx, func(c context.Context) error { return s.store.MarkUnknown(c, r.RequestID, out.Token, reason) }); err != nil {
				return Result{}, fmt.Errorf("mark sms %s unknown: %w", r.RequestID, err)
			}
			return Result{}, &UnknownOutcomeError{RequestID: r.RequestID, Reason: reason}
		}
	case idempotency.StatusAcquired:
	default:
		return Result{}, fmt.Errorf("begin sms %s: unexpected status %s", r.RequestID, out.Status)
	}
	return s.sendHeld(ctx, r, out.Attempt, out.Token)
}

// sendHeld sends r while holding its lease (token).
func (s *Sender) sendHeld(ctx context.Context, r Request, attempt int, token string) (Result, error) {
	if s.limiter != nil {
		if err := s.limiter.Wait(ctx); err != nil {
			// Nothing was sent: let the next delivery take it.
			return Result{}, s.release(ctx, r, token, &Error{Provider: s.provider.Name(), Kind: Retryable, Code: "rate-limit", Message: "no send slot before the deadline", Err: err})
		}
	}
	if err := s.timeToSend(ctx, r); err != nil {
		return Result{}, s.release(ctx, r, token, err) // the wait for a slot used the time up
	}
	if err := s.start(ctx, r, token); err != nil {
		return Result{}, err
	}
	sendCtx, cancel := context.WithTimeout(ctx, s.sendTimeout)
	rec, err := s.provider.Send(sendCtx, r)
	cancel()
	if err != nil {
		switch KindOf(err) {
		case Rejected, Retryable:
			return Result{}, s.release(ctx, r, token, err)
		default: // Unknown
			if s.resendOnUnknown {
				return Result{}, s.release(ctx, r, token, &Error{Provider: s.provider.Name(), Kind: Retryable, Code: "resend-on-unknown", Message: err.Error(), Err: err})
			}
			reason := "the provider's answer does not prove the text was refused: " + err.Error()
			if merr := s.retryStore(ctx, func(c context.Context) error { return s.store.MarkUnknown(c, r.RequestID, token, reason) }); merr != nil {
				// The lease will expire and the next delivery will mark it.
				return Result{}, errors.Join(&UnknownOutcomeError{RequestID: r.RequestID, Reason: reason}, merr)
			}
			return Result{}, &UnknownOutcomeError{RequestID: r.RequestID, Reason: reason}
		}
	}
	result, _ := json.Marshal(rec)
	cerr := s.retryStore(ctx, func(c context.Context) error { return s.store.Complete(c, r.RequestID, token, result) })
	if cerr != nil && s.onUnrecorded != nil {
		// Sent: acknowledging is right (a retry would send again). The
		// record stays in progress; a late duplicate will be reported as
		// unknown once its lease expires, never resent.
		s.onUnrecorded(ctx, r, rec, cerr)
	}
	return Result{Status: Sent, Receipt: rec, Attempt: attempt}, nil
}
