package sms

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/offload/offload/pkg/batch"
	"github.com/offload/offload/pkg/message"
)

// The sender's and providers' errors say their own failure class and
// permanence, so sms-sender returns them to pkg/batch as they are.
func TestErrorsSayTheirClassToTheBatchProcessor(t *testing.T) {
	t.Parallel()
	rejected := &Error{Provider: "twilio", Kind: Rejected, Code: "21211", Message: "invalid number +44*********01"}
	unknown := &UnknownOutcomeError{RequestID: "r-1", Reason: "no answer"}
	permanent := []struct {
		err           error
		class, reason string
	}{
		{&ConflictError{RequestID: "r-1"}, message.ClassConflict, "requestId r-1 was used before for a different number, body or sender"},
		{unknown, message.ClassUnknownOutcome, "sms request r-1: outcome unknown, not resent: no answer"},
		{errors.Join(unknown, errors.New("mark unknown: throttled")), message.ClassUnknownOutcome, "sms request r-1: outcome unknown, not resent: no answer"},
		{rejected, message.ClassRejected, "twilio rejected (21211): invalid number +44*********01"},
		{errors.Join(rejected, errors.New("release: throttled")), message.ClassRejected, "twilio rejected (21211): invalid number +44*********01"},
	}
	for _, tc := range permanent {
		pe, ok := batch.AsPermanent(tc.err)
		require.True(t, ok, "%v", tc.err)
		require.Equal(t, tc.class, pe.Class, "%v", tc.err)
		require.Equal(t, tc.reason, pe.Reason)
	}
	require.ErrorIs(t, &ConflictError{RequestID: "r-1"}, ErrConflict)

	for _, err := range []error{
		&Error{Provider: "sns", Kind: Retryable, Code: "Throttling"},
		&Error{Provider: "sns", Kind: Retryable, Code: "no-time", Err: ErrNoTimeToSend},
		&Error{Provider: "sns", Kind: Unknown, Code: "HTTP 503"},
		fmt.Errorf("%w: r-1", ErrInProgress),
	} {
		_, ok := batch.AsPermanent(err)
		require.False(t, ok, "%v is retried", err)
	}
}
