package batch

import (
	"errors"
	"fmt"
	"time"
)

// Failure classes of permanent errors. Any short lower-case word is allowed;
// these are the ones offload's own code uses.
const (
	// ClassDecode: the body cannot be turned into the expected type.
	ClassDecode = "decode"
	// ClassValidation: the body decodes but breaks a rule of the contract.
	ClassValidation = "validation"
)

// PermanentError is a failure that retrying cannot fix. The processor sends the
// record to the dead-letter queue with Class and Reason as message attributes.
type PermanentError struct {
	// Class is a short category, e.g. ClassDecode or ClassValidation.
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

// AsPermanent returns the *PermanentError in err's chain, if any.
func AsPermanent(err error) (*PermanentError, bool) {
	var pe *PermanentError
	ok := errors.As(err, &pe)
	return pe, ok
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

// ClassRetriesExhausted: the record failed transiently (or was never
// attempted for lack of time) on the queue's last receive (WithMaxReceiveCount):
// the processor dead-letters it with the last error as its reason instead of
// leaving SQS to move it without one.
const ClassRetriesExhausted = "retries-exhausted"

// ClassUnsupportedVersion: the record declares a message type or version
// (offload.type / offload.version) the consumer does not accept (Accept).
const ClassUnsupportedVersion = "unsupported-version"
