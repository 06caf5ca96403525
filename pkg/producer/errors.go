package producer

import (
	"errors"
	"fmt"
	"strings"
)

// ErrTooLarge is matched (errors.Is) by a *SizeError.
var ErrTooLarge = errors.New("message too large")

// ErrInvalidMessage is matched (errors.Is) by every validation error Publish
// and PublishBatch return before calling SQS.
var ErrInvalidMessage = errors.New("invalid message")

// SizeError reports a message whose body and attributes, counted as SQS counts
// them, exceed the limit. It is returned before any call to SQS.
type SizeError struct {
	// Size is the message's size in bytes: body plus, for every message
	// attribute, its name, data type and value.
	Size int
	// Limit is the configured maximum (WithMaxMessageBytes).
	Limit int
}

// Error says how large the message is and what the limit is.
func (e *SizeError) Error() string {
	return fmt.Sprintf("message is %d bytes (body and attributes), over the limit of %d bytes", e.Size, e.Limit)
}

// Is makes errors.Is(err, ErrTooLarge) and errors.Is(err, ErrInvalidMessage)
// true for a *SizeError.
func (e *SizeError) Is(target error) bool {
	return target == ErrTooLarge || target == ErrInvalidMessage
}

// EntryError is SQS's answer for one entry of a SendMessageBatch call that it
// did not accept.
type EntryError struct {
	// Code is SQS's error code, e.g. "InvalidParameterValue" or "InternalError".
	Code string
	// Message is SQS's explanation.
	Message string
	// SenderFault is true when SQS blames the request rather than itself.
	SenderFault bool
	// Retryable is true when sending the same entry again may succeed
	// (a service-side fault or throttling). The Publisher has already retried
	// it as often as its RetryPolicy allows.
	Retryable bool
}

// Error formats the code and message.
func (e *EntryError) Error() string {
	return fmt.Sprintf("sqs rejected entry: %s: %s", e.Code, e.Message)
}

// BatchError is returned by PublishBatch when at least one message was not
// published; the per-message Results say which. errors.Is and errors.As look
// through it at every distinct per-message error.
type BatchError struct {
	// Failed is how many messages were not published.
	Failed int
	// Total is how many messages the call was given.
	Total int
	// Errs holds the distinct errors, in message order (at most 10).
	Errs []error
}

// Error summarises the failure.
func (e *BatchError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d of %d messages not published", e.Failed, e.Total)
	for i, err := range e.Errs {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(err.Error())
	}
	return b.String()
}

// Unwrap returns the distinct per-message errors.
func (e *BatchError) Unwrap() []error { return e.Errs }
