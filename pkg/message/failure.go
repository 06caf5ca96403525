package message

import "strings"

// Failure classes: the values of AttrFailureClass. Every class offload's own
// code writes is one of these; alarms, runbooks, `offload dlq list` and the
// chaos accounting match on them, so they never change once released. They
// live here, next to the attribute they fill, so that domain packages (which
// classify their own errors) and DLQ tooling (which reads them back) share them
// without importing the batch processor. docs/development.md, "Failure
// classes", lists them with who writes each.
const (
	// ClassDecode: the body is not the message it should be (not UTF-8, not
	// JSON, wrong JSON types). DecodeError carries it.
	ClassDecode = "decode"
	// ClassValidation: the body decodes but breaks a rule of its contract.
	// ValidationError carries it.
	ClassValidation = "validation"
	// ClassUnsupportedVersion: the record declares an offload.type or
	// offload.version the consumer does not accept (pkg/batch, Accept).
	ClassUnsupportedVersion = "unsupported-version"
	// ClassRetriesExhausted: the record failed transiently (or was never
	// attempted for lack of time) on the queue's last receive (pkg/batch,
	// WithMaxReceiveCount); the reason holds the last error.
	ClassRetriesExhausted = "retries-exhausted"
	// ClassConflict: a key already stands for different content — an audit
	// messageId stored with another text or time, an SMS requestId reused for
	// another number, body or sender. Kept for a human, never overwritten.
	ClassConflict = "conflict"
	// ClassRejected: the downstream refused the request — the SMS provider
	// (invalid or unsubscribed number, bad sender), or a recipient who opted
	// out: nothing was done, retrying cannot help.
	ClassRejected = "rejected"
	// ClassUnknownOutcome: the SMS may or may not have been sent (provider
	// 5xx, timeout, or an attempt that died holding its lease). Reported,
	// never resent automatically.
	ClassUnknownOutcome = "unknown-outcome"
	// ClassUnclassified: a permanent failure that named no class.
	ClassUnclassified = "unclassified"
)

// DecodeError says a queue body is not the message it should be at all. It
// is permanent (a redelivery carries the same bytes) and of class
// ClassDecode; its message is the dead letter's reason, so Err must not quote
// the body.
type DecodeError struct {
	// Kind names the message the body should have been, e.g. "audit message".
	Kind string
	// Err says what is wrong: the JSON or parsing error.
	Err error
}

// Error is "decode <kind>: <err>".
func (e *DecodeError) Error() string { return "decode " + e.Kind + ": " + e.Err.Error() }

// Unwrap gives errors.Is and errors.As the parsing error.
func (e *DecodeError) Unwrap() error { return e.Err }

// FailureClass is ClassDecode.
func (e *DecodeError) FailureClass() string { return ClassDecode }

// Permanent is always true: the same body never decodes.
func (e *DecodeError) Permanent() bool { return true }

// Problem is one broken rule of a message's contract.
type Problem struct {
	// Field is the message field, as named on the wire ("auditText").
	Field string
	// Reason says what is wrong with it ("is empty"); never the field's
	// value, and phone numbers only masked.
	Reason string
}

// ValidationError lists every rule a decoded message breaks, so a producer
// learns all of them from one dead letter. It is permanent and of class
// ClassValidation. Build one with Add and return Err, which is nil when
// nothing was added.
type ValidationError struct {
	// Kind names the message, e.g. "audit message".
	Kind string
	// Problems are the broken rules in the order they were found.
	Problems []Problem
}

// Add records a broken rule.
func (e *ValidationError) Add(field, reason string) {
	e.Problems = append(e.Problems, Problem{Field: field, Reason: reason})
}

// Err returns e when it holds a problem and nil otherwise, so that a
// validator can end with `return v.Err()`.
func (e *ValidationError) Err() error {
	if len(e.Problems) == 0 {
		return nil
	}
	return e
}

// Error has one line per problem, "invalid <kind>: <field> <reason>".
func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = "invalid " + e.Kind + ": " + p.Field + " " + p.Reason
	}
	return strings.Join(lines, "\n")
}

// Fields names the fields of the problems, in order (a field may repeat).
func (e *ValidationError) Fields() []string {
	fields := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		fields[i] = p.Field
	}
	return fields
}

// FailureClass is ClassValidation.
func (e *ValidationError) FailureClass() string { return ClassValidation }

// Permanent is always true: the same body breaks the same rules.
func (e *ValidationError) Permanent() bool { return true }
