package sms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"golang.org/x/time/rate"

	"github.com/offload/offload/pkg/idempotency"
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
	// body or sender. Permanent.
	ErrConflict = errors.New("sms request id reused with different content")
)

// UnknownOutcomeError says the text may or may not have been sent — a
// previous attempt died between the provider accepting it and the record
// being completed, or the provider never answered — and that the sender will
// not send it again. Permanent: report it, a human decides.
type UnknownOutcomeError struct {
	RequestID string
	Reason    string
}

// Error names the request and why its outcome is unknown.
func (e *UnknownOutcomeError) Error() string {
	return fmt.Sprintf("sms request %s: outcome unknown, not resent: %s", e.RequestID, e.Reason)
}

// Sender sends each request at most once, however often it is delivered.
// It is safe for concurrent use; build one per container.
type Sender struct {
	provider        Provider
	store           idempotency.Store
	limiter         *rate.Limiter
	resendOnUnknown bool
	leaseExtra      time.Duration
	leaseFallback   time.Duration
	completeTries   int
	onUnrecorded    func(r Request, rec Receipt, err error)
}

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

// WithLease sets the lease beyond the invocation's deadline (extra, default
// 5 s) and the lease when the context has no deadline (fallback, default 1 min).
func WithLease(extra, fallback time.Duration) SenderOption {
	return func(s *Sender) { s.leaseExtra, s.leaseFallback = extra, fallback }
}

// WithUnrecordedHandler is called when a text was sent but its completion
// could not be recorded (the idempotency store failed three times). The send
// still counts as done; the handler should log it.
func WithUnrecordedHandler(f func(r Request, rec Receipt, err error)) SenderOption {
	return func(s *Sender) { s.onUnrecorded = f }
}

// NewSender returns a Sender sending through provider, guarded by store.
func NewSender(provider Provider, store idempotency.Store, opts ...SenderOption) (*Sender, error) {
	if provider == nil || store == nil {
		return nil, errors.New("sms: NewSender needs a provider and an idempotency store")
	}
	s := &Sender{provider: provider, store: store, leaseExtra: 5 * time.Second, leaseFallback: time.Minute, completeTries: 3}
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

// Send sends r unless an earlier delivery did. The error is one of:
// ErrConflict and *UnknownOutcomeError (permanent), a provider *Error (its
// Kind says: Rejected is permanent, Retryable transient), ErrInProgress or a
// store error (transient).
func (s *Sender) Send(ctx context.Context, r Request) (Result, error) {
	if err := r.Validate(); err != nil {
		return Result{}, err
	}
	lease := idempotency.LeaseFor(ctx, s.leaseExtra, s.leaseFallback)
	out, err := s.store.Begin(ctx, r.RequestID, r.PayloadHash(), lease)
	switch {
	case errors.Is(err, idempotency.ErrPayloadMismatch):
		return Result{}, fmt.Errorf("%w: %s", ErrConflict, r.RequestID)
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
			reason := fmt.Sprintf("attempt %d's lease expired before it was completed: the provider may have sent it", out.Attempt-1)
			if err := s.store.MarkUnknown(context.WithoutCancel(ctx), r.RequestID, reason); err != nil {
				return Result{}, fmt.Errorf("mark sms %s unknown: %w", r.RequestID, err)
			}
			return Result{}, &UnknownOutcomeError{RequestID: r.RequestID, Reason: reason}
		}
	case idempotency.StatusAcquired:
	default:
		return Result{}, fmt.Errorf("begin sms %s: unexpected status %s", r.RequestID, out.Status)
	}
	return s.sendHeld(ctx, r, out.Attempt)
}

// sendHeld sends r while holding its lease.
func (s *Sender) sendHeld(ctx context.Context, r Request, attempt int) (Result, error) {
	cleanup := context.WithoutCancel(ctx)
	if s.limiter != nil {
		if err := s.limiter.Wait(ctx); err != nil {
			// Nothing was sent: let the next delivery take it.
			_ = s.store.Release(cleanup, r.RequestID)
			return Result{}, &Error{Provider: s.provider.Name(), Kind: Retryable, Code: "rate-limit", Message: "no send slot before the deadline", Err: err}
		}
	}
	rec, err := s.provider.Send(ctx, Message(r))
	if err != nil {
		switch KindOf(err) {
		case Rejected, Retryable:
			if rerr := s.store.Release(cleanup, r.RequestID); rerr != nil {
				return Result{}, errors.Join(err, fmt.Errorf("release sms %s: %w", r.RequestID, rerr))
			}
			return Result{}, err
		default: // Unknown
			if s.resendOnUnknown {
				_ = s.store.Release(cleanup, r.RequestID)
				return Result{}, &Error{Provider: s.provider.Name(), Kind: Retryable, Code: "resend-on-unknown", Message: err.Error(), Err: err}
			}
			reason := "the provider did not answer: " + err.Error()
			if merr := s.store.MarkUnknown(cleanup, r.RequestID, reason); merr != nil {
				// The lease will expire and the next delivery will mark it.
				return Result{}, errors.Join(&UnknownOutcomeError{RequestID: r.RequestID, Reason: reason}, merr)
			}
			return Result{}, &UnknownOutcomeError{RequestID: r.RequestID, Reason: reason}
		}
	}
	result, _ := json.Marshal(rec)
	var cerr error
	for i := range s.completeTries {
		if cerr = s.store.Complete(cleanup, r.RequestID, result); cerr == nil {
			break
		}
		time.Sleep(time.Duration(i+1) * 50 * time.Millisecond)
	}
	if cerr != nil && s.onUnrecorded != nil {
		// Sent: acknowledging is right (a retry would send again). The
		// record stays in progress; a late duplicate will be reported as
		// unknown once its lease expires, never resent.
		s.onUnrecorded(r, rec, cerr)
	}
	return Result{Status: Sent, Receipt: rec, Attempt: attempt}, nil
}
