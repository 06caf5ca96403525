package sms

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/offload/offload/pkg/message"
)

// Receipt is the provider's acknowledgement of an accepted message.
type Receipt struct {
	// Provider is the provider's name ("sns", "twilio").
	Provider string `json:"provider"`
	// ID is the provider's message id (SNS MessageId, Twilio SID).
	ID string `json:"id"`
}

// Provider sends one text message. Implementations make exactly one attempt
// (no internal retries, which are how duplicates happen) and return an *Error
// that classifies any failure. They are safe for concurrent use.
type Provider interface {
	// Name identifies the provider in logs and receipts.
	Name() string
	// Send makes one attempt to send r, a Request that passed Validate (the
	// Sender checks it first). A provider passes RequestID along where it
	// can record it and uses its default sender when SenderID is empty.
	Send(ctx context.Context, r Request) (Receipt, error)
}

// Kind says what a failed send means for the message.
type Kind int

const (
	// Rejected: the provider refused the message (invalid or unsubscribed
	// number, bad sender, bad credentials). Nothing was sent; retrying the
	// same request cannot succeed. Permanent.
	Rejected Kind = iota + 1
	// Retryable: nothing was sent and a later attempt may succeed
	// (throttling, connection refused before the request was written).
	Retryable
	// Unknown: the request may have reached the provider and no answer
	// proves it was refused (HTTP 5xx, timeout, connection reset, an
	// unreadable answer): the text may or may not have been sent. See
	// Classify.
	Unknown
)

// String is the kind as logged; for Rejected and Unknown it is also the
// failure class a dead letter carries (message.ClassRejected,
// message.ClassUnknownOutcome).
func (k Kind) String() string {
	switch k {
	case Rejected:
		return message.ClassRejected
	case Retryable:
		return "retryable"
	case Unknown:
		return message.ClassUnknownOutcome
	}
	return message.ClassUnclassified
}

// Error is a classified provider failure. Message is safe to log: numbers in
// it are masked.
type Error struct {
	// Provider is the provider's name.
	Provider string
	// Kind classifies the failure.
	Kind Kind
	// Code is the provider's error code ("21211", "InvalidParameter", "HTTP 503").
	Code string
	// Message is the provider's explanation, numbers masked.
	Message string
	// RetryAfter is how long the provider asked us to wait (429 Retry-After), if it did.
	RetryAfter time.Duration
	// Err is the underlying error, if any.
	Err error
}

// Error is "<provider> <kind> (<code>): <message>", numbers masked.
func (e *Error) Error() string {
	msg := fmt.Sprintf("%s %s", e.Provider, e.Kind)
	if e.Code != "" {
		msg += " (" + e.Code + ")"
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// Unwrap returns the underlying error, if any.
func (e *Error) Unwrap() error { return e.Err }

// FailureClass is the Kind as a failure class (Kind.String).
func (e *Error) FailureClass() string { return e.Kind.String() }

// Permanent is true for Rejected only: nothing was sent and the same request
// is refused again. A Retryable answer is retried; an Unknown one reaches a
// consumer only inside an *UnknownOutcomeError, which is permanent itself.
func (e *Error) Permanent() bool { return e.Kind == Rejected }

// KindOf returns the Kind of a provider error; an unclassified error counts as
// Unknown, the only safe assumption for a side effect.
func KindOf(err error) Kind {
	var pe *Error
	if errors.As(err, &pe) {
		return pe.Kind
	}
	return Unknown
}

// RetryAfterOf returns the delay the provider asked for, if any.
func RetryAfterOf(err error) (time.Duration, bool) {
	var pe *Error
	if errors.As(err, &pe) && pe.RetryAfter > 0 {
		return pe.RetryAfter, true
	}
	return 0, false
}
