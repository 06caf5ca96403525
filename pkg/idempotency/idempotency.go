package idempotency

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// Status is what Begin found for a key.
type Status int

// The statuses Begin reports.
const (
	// StatusAcquired: no record existed (or it had expired or been
	// released, or an earlier attempt that claimed it with DeferStart let
	// its lease run out before it called Start: its work never began). The
	// caller holds a new lease (Outcome.Token) and must Complete, Release
	// or MarkUnknown it.
	StatusAcquired Status = iota + 1
	// StatusInProgress: another caller holds an unexpired lease.
	StatusInProgress
	// StatusCompleted: the work was done; Outcome.Result holds its result.
	StatusCompleted
	// StatusLeaseExpired: a previous attempt's lease ran out without Complete,
	// Release or MarkUnknown, after its work may have started (it called
	// Start, or claimed the key without DeferStart). The caller now holds a
	// fresh lease and decides whether the side effect may be repeated
	// (Outcome.Attempt counts tries).
	StatusLeaseExpired
	// StatusUnknown: an earlier holder could not tell whether the side effect
	// happened and marked the key (Outcome.Reason). Terminal.
	StatusUnknown
)

// String names the status.
func (s Status) String() string {
	switch s {
	case StatusAcquired:
		return "acquired"
	case StatusInProgress:
		return "in-progress"
	case StatusCompleted:
		return "completed"
	case StatusLeaseExpired:
		return "lease-expired"
	case StatusUnknown:
		return "unknown"
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// ErrPayloadMismatch is returned by Begin when the key exists with a different
// payload hash: the key was reused for another request. Treat it as a
// permanent failure; never as a duplicate.
var ErrPayloadMismatch = errors.New("idempotency key reused with a different payload")

// ErrNotHeld is returned by Complete, Release and MarkUnknown when the key has
// no in-progress record (never begun, completed, released, marked unknown or
// expired) and the caller's attempt did not itself finish it that way.
var ErrNotHeld = errors.New("idempotency record is not in progress")

// ErrLeaseLost is returned by Complete, Release and MarkUnknown when the key's
// record belongs to another attempt: the caller's lease expired and another
// Begin took the key over (or acquired it after a release). The caller must
// not act as the holder; the record was left unchanged.
var ErrLeaseLost = errors.New("idempotency lease is held by another attempt")

// Outcome is what Begin reports.
type Outcome struct {
	// Status says what was found.
	Status Status
	// Result is the stored result of a completed record (nil when none).
	Result []byte
	// Reason is why an unknown record was marked so.
	Reason string
	// LeaseUntil is when the current lease ends (Acquired, LeaseExpired: the
	// caller's; InProgress: the other holder's).
	LeaseUntil time.Time
	// Attempt counts the leases granted for the key: 1 when a new record is
	// written, +1 per takeover of an expired lease (LeaseExpired, or
	// Acquired when the expired attempt had not started).
	Attempt int
	// Token identifies this Begin's attempt (Acquired, LeaseExpired): the
	// caller passes it to Complete, Release or MarkUnknown, which only act
	// on a record that still carries it. Empty for the other statuses.
	Token string
}

// Store is an idempotency store. Implementations are safe for concurrent use.
//
// Every lease carries the attempt token its Begin wrote. Begin writes the
// token with its claim, so a Begin whose write committed but whose answer was
// lost (the SDK's retry then fails the condition) recognises its own record
// and reports the key acquired. Complete, Release and MarkUnknown are
// conditioned on the token: a stale holder gets ErrLeaseLost and changes
// nothing; the same attempt repeating a call that already took effect gets
// nil.
//
// A claim made with DeferStart records that the work has not started yet;
// the holder calls Start immediately before the side effect. A lease that
// expires on a claim whose work never started is taken over as not done
// (StatusAcquired), not as a possible side effect (StatusLeaseExpired): a
// holder that died — or could not write its Release — before starting
// leaves a record that says "not done".
type Store interface {
	// Begin claims key for work on a payload with the given hash, for lease.
	// It returns ErrPayloadMismatch when the key exists with another hash.
	// With DeferStart the work counts as started only once Start is called.
	Begin(ctx context.Context, key, payloadHash string, lease time.Duration, opts ...BeginOption) (Outcome, error)
	// Start records that the attempt's work begins now (call it immediately
	// before the side effect, and do not start the side effect when it
	// fails). It is a no-op for a claim made without DeferStart and when
	// repeated. It returns ErrLeaseLost when another attempt holds the key
	// or the attempt's lease has run out (a lease that ran out may be taken
	// over as never started: do not start then), ErrNotHeld when the record
	// is not in progress.
	Start(ctx context.Context, key, token string) error
	// Complete marks the attempt's in-progress record done with result (may
	// be nil).
	Complete(ctx context.Context, key, token string, result []byte) error
	// Release marks the attempt's in-progress record released after a
	// failure that certainly left the work undone ("not sent"): the next
	// Begin acquires it afresh, whatever its payload.
	Release(ctx context.Context, key, token string) error
	// MarkUnknown marks the attempt's in-progress record as of unknown
	// outcome (reason: one line, no payload data). Begin reports
	// StatusUnknown from then on.
	MarkUnknown(ctx context.Context, key, token, reason string) error
}

// BeginOption qualifies one Begin.
type BeginOption func(*beginOptions)

type beginOptions struct {
	deferStart bool
}

func beginOpts(opts []BeginOption) beginOptions {
	var o beginOptions
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// DeferStart makes Begin's claim say "acquired, work not started": the work
// counts as started once the holder calls Start. Until then an expired lease
// is taken over as never started (StatusAcquired). The marker is only
// written by a claim of a new, expired or released record, or of one whose
// expired attempt never started; a takeover after a start (LeaseExpired)
// keeps the record started whatever the option, so the evidence that the
// side effect may have happened is never erased. Records without the marker
// (written without the option, or by older code) count as started.
func DeferStart() BeginOption { return func(o *beginOptions) { o.deferStart = true } }

// Retainer is implemented by stores that know how long they keep a record
// after its last write (both stores here): a record of a request first seen
// at t is kept at least until t plus the retention, so a caller can tell a
// request too old for its record to prove it was not done before.
type Retainer interface {
	Retention() time.Duration
}

// newToken returns a random attempt token (128 bits, hex).
func newToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}

// checkToken rejects an empty token, which no lease carries.
func checkToken(op, key, token string) error {
	if token == "" {
		return fmt.Errorf("%s %s: empty attempt token: %w", op, key, ErrNotHeld)
	}
	return nil
}

// HashPayload returns the hex SHA-256 of a payload, the payload hash Begin
// expects.
func HashPayload(payload []byte) string {
	sum := sha256.Sum256(payload)
	return hex.EncodeToString(sum[:])
}

// LeaseFor returns a lease covering the rest of the invocation: the time left
// until ctx's deadline (the Lambda deadline) plus extra, so that a lease only
// expires once its holder cannot be running any more. Without a deadline it
// returns fallback.
func LeaseFor(ctx context.Context, extra, fallback time.Duration) time.Duration {
	dl, ok := ctx.Deadline()
	if !ok {
		return fallback
	}
	return max(time.Until(dl), 0) + extra
}

// DefaultRetention is how long records are kept unless WithRetention says
// otherwise.
const DefaultRetention = 24 * time.Hour

// Option configures a store.
type Option func(*options)

type options struct {
	retention time.Duration
	now       func() time.Time
	keyAttr   string
	ttlAttr   string
}

func newOptions(opts []Option) (options, error) {
	o := options{retention: DefaultRetention, now: time.Now, keyAttr: "id", ttlAttr: "expires_at"}
	for _, opt := range opts {
		opt(&o)
	}
	var errs []error
	if o.retention <= 0 {
		errs = append(errs, fmt.Errorf("retention must be positive, got %s", o.retention))
	}
	if o.now == nil {
		errs = append(errs, errors.New("clock must not be nil"))
	}
	if o.keyAttr == "" || o.ttlAttr == "" {
		errs = append(errs, errors.New("key and TTL attribute names must not be empty"))
	}
	return o, errors.Join(errs...)
}

// WithRetention sets how long a record lives after its last write (default
// DefaultRetention). Keep it longer than the queue's retention period plus
// the longest lease, so that a redelivery always finds its record.
func WithRetention(d time.Duration) Option { return func(o *options) { o.retention = d } }

// WithClock replaces time.Now (for tests).
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithKeyAttribute names the table's partition key attribute (DynamoDB only;
// default "id").
func WithKeyAttribute(name string) Option { return func(o *options) { o.keyAttr = name } }

// WithTTLAttribute names the expiry attribute, in unix seconds, that the
// table's TTL is set on (DynamoDB only; default "expires_at").
func WithTTLAttribute(name string) Option { return func(o *options) { o.ttlAttr = name } }

func checkBegin(key string, lease time.Duration) error {
	if key == "" {
		return errors.New("begin: empty idempotency key")
	}
	if lease <= 0 {
		return fmt.Errorf("begin %s: lease must be positive, got %s", key, lease)
	}
	return nil
}

// errSkip says the attempt already finished the record the way it asks to:
// the call is a repeat (an SDK retry of a request that committed) and a no-op.
var errSkip = errors.New("already finished so by this attempt")

// skipped turns errSkip into success.
func skipped(err error) error {
	if errors.Is(err, errSkip) {
		return nil
	}
	return err
}

// finishCheck is the fencing rule of Complete, Release and MarkUnknown,
// shared by the stores, for a record that exists: the attempt with the
// record's token may finish an in-progress record (nil) and repeat a finish
// that took effect (errSkip); an in-progress record of another attempt is
// ErrLeaseLost; anything else ErrNotHeld.
func finishCheck(op, key string, inProgress, alreadyDone, ownToken bool, attempt int) error {
	switch {
	case ownToken && inProgress:
		return nil
	case ownToken && alreadyDone:
		return errSkip
	case inProgress:
		return fmt.Errorf("%s %s: attempt %d holds the lease: %w", op, key, attempt, ErrLeaseLost)
	}
	return fmt.Errorf("%s %s: %w", op, key, ErrNotHeld)
}

// startCheck is the rule of Start for a record that exists: the attempt with
// the record's token may start an in-progress record whose lease has not run
// out (nil), and repeat a Start (errSkip); anything else is refused.
func startCheck(key string, inProgress, ownToken, started, leaseLive bool, attempt int) error {
	switch {
	case ownToken && inProgress && started:
		return errSkip
	case ownToken && inProgress && leaseLive:
		return nil
	case ownToken && inProgress:
		return fmt.Errorf("start %s: attempt %d's lease ran out before it started: %w", key, attempt, ErrLeaseLost)
	case inProgress:
		return fmt.Errorf("start %s: attempt %d holds the lease: %w", key, attempt, ErrLeaseLost)
	}
	return fmt.Errorf("start %s: %w", key, ErrNotHeld)
}
