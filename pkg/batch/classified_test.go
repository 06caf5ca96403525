package batch_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/stretchr/testify/require"

	"github.com/offload/offload/pkg/batch"
	"github.com/offload/offload/pkg/batch/batchtest"
	"github.com/offload/offload/pkg/logging"
	"github.com/offload/offload/pkg/message"
)

// providerError is a domain error in the style of sms.Error: one type,
// permanent or not depending on what the dependency answered.
type providerError struct {
	code      string
	permanent bool
}

func (e *providerError) Error() string        { return "provider said " + e.code }
func (e *providerError) FailureClass() string { return message.ClassRejected }
func (e *providerError) Permanent() bool      { return e.permanent }

// permanentOnly answers Permanent but names no class.
type permanentOnly struct{}

func (permanentOnly) Error() string   { return "cannot ever work" }
func (permanentOnly) Permanent() bool { return true }

var _ batch.Classified = (*providerError)(nil)
var _ batch.Classified = (*batch.PermanentError)(nil)
var _ batch.Classified = (*message.DecodeError)(nil)
var _ batch.Classified = (*message.ValidationError)(nil)

// A handler returns its domain errors as they are: the processor reads the
// class, the reason (the classified error's own message) and the permanence
// from the error itself.
func TestClassifiedErrorsDecideTheirRecordsFate(t *testing.T) {
	t.Parallel()
	dlq := &batchtest.SQS{}
	errs := map[string]error{
		"msg-1": &message.DecodeError{Kind: "audit message", Err: errors.New("unexpected end of JSON input")},
		"msg-2": fmt.Errorf("store the record: %w", &providerError{code: "21211", permanent: true}),
		"msg-3": &providerError{code: "20429"},
		"msg-4": permanentOnly{},
		"msg-5": batch.RetryAfter(time.Minute, &message.ValidationError{Kind: "audit message", Problems: []message.Problem{{Field: "auditText", Reason: "is empty"}}}),
		"msg-6": nil,
	}
	h := func(_ context.Context, m events.SQSMessage) error { return errs[m.MessageId] }
	p, logs := newProcessor(t, h, batch.WithDeadLetter(dlq, "https://sqs.local/123456789012/audit-dlq"),
		batch.WithBackoff(dlq, batch.ExponentialBackoff(5*time.Second, time.Minute)))
	resp, err := p.Process(context.Background(), events.SQSEvent{Records: records(6)})
	require.NoError(t, err)
	require.Equal(t, []string{"msg-3"}, failureIDs(resp), "only the answer that is not permanent comes back")

	type dead struct{ class, reason string }
	got := map[string]dead{}
	for _, in := range dlq.DeadLetters() {
		attr := func(n string) string { return aws.ToString(in.MessageAttributes[n].StringValue) }
		got[attr(message.AttrOriginalMessageID)] = dead{attr(message.AttrFailureClass), attr(message.AttrFailureReason)}
	}
	require.Equal(t, map[string]dead{
		"msg-1": {message.ClassDecode, "decode audit message: unexpected end of JSON input"},
		"msg-2": {message.ClassRejected, "provider said 21211"},
		"msg-4": {message.ClassUnclassified, "cannot ever work"},
		"msg-5": {message.ClassValidation, "invalid audit message: auditText is empty"},
	}, got, "the reason is the classified error's own message, not its wrappers'")

	lines := byMessage(t, logs)
	require.Equal(t, batch.OutcomeDeadLettered, lines["msg-2"][logging.FieldOutcome])
	require.Equal(t, message.ClassRejected, lines["msg-2"][logging.FieldErrorClass])
	require.Contains(t, lines["msg-2"][logging.FieldError], "store the record", "the whole chain is logged")
	require.Equal(t, batch.OutcomeRetry, lines["msg-3"][logging.FieldOutcome])
	require.Equal(t, "transient", lines["msg-3"][logging.FieldErrorClass])
}

func TestAsPermanent(t *testing.T) {
	t.Parallel()
	pe, ok := batch.AsPermanent(fmt.Errorf("wrapped: %w", batch.Permanent(message.ClassConflict, "id reused", nil)))
	require.True(t, ok)
	require.Equal(t, message.ClassConflict, pe.Class)
	require.Equal(t, "id reused", pe.Reason)

	_, ok = batch.AsPermanent(&providerError{code: "503"})
	require.False(t, ok, "a classified error that is not permanent is transient")
	_, ok = batch.AsPermanent(errors.New("timeout"))
	require.False(t, ok)
	_, ok = batch.AsPermanent(nil)
	require.False(t, ok)

	// The first error in the chain with an answer decides.
	_, ok = batch.AsPermanent(&wrapping{outer: &providerError{code: "429"}, inner: &message.DecodeError{Kind: "x", Err: errors.New("y")}})
	require.False(t, ok)
}

// wrapping is a transient classified error wrapping a permanent one.
type wrapping struct {
	outer *providerError
	inner error
}

func (w *wrapping) Error() string        { return w.outer.Error() }
func (w *wrapping) Permanent() bool      { return w.outer.Permanent() }
func (w *wrapping) FailureClass() string { return w.outer.FailureClass() }
func (w *wrapping) Unwrap() error        { return w.inner }
