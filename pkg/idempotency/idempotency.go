package idempotency

import (
	"context"
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
	// StatusAcquired: no record existed (or it had expired). The caller holds
	// a new lease and must Complete or Release.
	StatusAcquired Status = iota + 1
	// StatusInProgress: another caller holds an unexpired lease.
	StatusInProgress
	// StatusCompleted: the work was done; Outcome.Result holds its result.
	StatusCompleted
	// StatusLeaseExpired: a previous attempt's lease ran out without Complete,
	// Release or MarkUnknown. The caller now holds a fresh lease and decides
	// whether the side effect may be repeated (Outcome.Attempt counts tries).
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
// no in-progress record (never begun, already completed, released, marked
// unknown, or expired).
var ErrNotHeld = errors.New("idempotency record is not in progress")

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
	// Attempt counts the leases granted for the key: 1 when Acquired, +1
	// per LeaseExpired takeover.
	Attempt int
}

// Store is an idempotency store. Implementations are safe for concurrent use.
type Store interface {
	// Begin claims key for work on a payload with the given hash, for lease.
	// It returns ErrPayloadMismatch when the key exists with another hash.
	Begin(ctx context.Context, key, payloadHash string, lease time.Duration) (Outcome, error)
	// Complete marks key's in-progress record done with result (may be nil).
	Complete(ctx context.Context, key string, result []byte) error
	// Release deletes key's in-progress record after a failure, so that a
	// retry may acquire it afresh.
	Release(ctx context.Context, key string) error
	// MarkUnknown marks key's in-progress record as of unknown outcome
	// (reason: one line, no payload data). Begin reports StatusUnknown from
	// then on.
	MarkUnknown(ctx context.Context, key, reason string) error
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
