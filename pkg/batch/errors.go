package batch

import (
	"errors"
	"fmt"
	"time"
)

// Classified is the error contract between a handler's domain code and the
// processor: an error that says its own failure class and whether retrying
// can help, in the style of watermill's retry predicate — except that the
// predicate is asked of the error, so a handler returns its domain errors as
// they are instead of mapping them. message.DecodeError and
// message.ValidationError implement it, as do pkg/sms's provider and sender
// errors and PermanentError itself.
//
// The processor looks for the first error in the handler's error chain
// (errors.As) with a Permanent method. Permanent() true: the record is
// dead-lettered at once with FailureClass() as offload.failure-class and the
// error's own message (Error, not the whole chain's) as
// offload.failure-reason — one line where possible, never payload data.
// Permanent() false (a retryable provider answer), or no such error: the
// record is retried (RetryAfter sets when; it does not answer Permanent, so a
// permanent error it wraps stays permanent).
type Classified interface {
	error
	// FailureClass is the class written to offload.failure-class: one of
	// pkg/message's Class constants.
	FailureClass() string
	// Permanent reports whether retrying cannot help.
	Permanent() bool
}

// permanence is the part of Classified the processor decides on.
type permanence interface{ Permanent() bool }

// PermanentError is a failure that retrying cannot fix. The processor sends the
// record to the dead-letter queue with Class and Reason as message attributes.
type PermanentError struct {
	// Class is one of pkg/message's Class constants, e.g.
	// message.ClassConflict.
	Class string
	// Reason is a one-line, human-readable explanation. It is stored on the
	// dead-lettered message and must not contain payload data.
	Reason string
	// Err is the underlying error, if any; it is logged (masked), never
	// stored on the message.
	Err error
}

// Permanent returns a *PermanentError with the given class, reason and
// optional cause.
func Permanent(class, reason string, cause error) error {
	return &PermanentError{Class: class, Reason: reason, Err: cause}
}

// Error formats class, reason and cause.
func (e *PermanentError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("permanent %s failure: %s: %v", e.Class, e.Reason, e.Err)
	}
	return fmt.Sprintf("permanent %s failure: %s", e.Class, e.Reason)
}

// Unwrap returns the cause.
func (e *PermanentError) Unwrap() error { return e.Err }

// FailureClass is Class.
func (e *PermanentError) FailureClass() string { return e.Class }

// Permanent is always true.
func (e *PermanentError) Permanent() bool { return true }

// AsPermanent says how the processor reads err: the *PermanentError in its
// chain or, when the first error in the chain that has a Permanent method
// (Classified) answers true, a *PermanentError built from it — its
// FailureClass, its message as the reason, err as the cause. ok is false for
// a transient error.
func AsPermanent(err error) (*PermanentError, bool) {
	var p permanence
	if !errors.As(err, &p) || !p.Permanent() {
		return nil, false
	}
	if pe, ok := p.(*PermanentError); ok {
		return pe, true
	}
	pe := &PermanentError{Reason: p.(error).Error(), Err: err}
	if c, ok := p.(interface{ FailureClass() string }); ok {
		pe.Class = c.FailureClass()
	}
	return pe, true
}

// TransientError is a failure worth retrying later, after Backoff: the
// processor sets the record's visibility timeout to Backoff so SQS delivers
// it again then. Any error that is not permanent is transient; this type only
// adds the delay.
type TransientError struct {
	// Backoff is how long SQS should hide the record (0 means the
	// processor's backoff policy, or the queue's visibility timeout).
	Backoff time.Duration
	// Err is the underlying error.
	Err error
}

// RetryAfter returns a transient error asking for the record to be delivered
// again after d (SQS allows up to 12 hours).
func RetryAfter(d time.Duration, cause error) error {
	return &TransientError{Backoff: d, Err: cause}
}

// Error formats the cause and the delay.
func (e *TransientError) Error() string {
	return fmt.Sprintf("transient failure, retry after %s: %v", e.Backoff, e.Err)
}

// Unwrap returns the cause.
func (e *TransientError) Unwrap() error { return e.Err }
