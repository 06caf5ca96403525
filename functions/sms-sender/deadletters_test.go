package main

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/require"

	"github.com/offload/offload/pkg/batch/batchtest"
	"github.com/offload/offload/pkg/sms"
)

// TestDeadLetterClassesAndReasons pins the exact class and reason every
// permanent failure writes to the DLQ: alarms, runbooks and `offload dlq list`
// read them, so a refactoring of how errors are classified must not change a
// byte of them.
func TestDeadLetterClassesAndReasons(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.prov.fail["+447400000001"] = []error{&sms.Error{Provider: "fake", Kind: sms.Rejected, Code: "21211", Message: "invalid 'To' number +44*********01"}}
	f.prov.fail["+447400000003"] = []error{&sms.Error{Provider: "fake", Kind: sms.Unknown, Code: "no-response", Message: "no answer"}}
	f.prov.fail["+447400000006"] = []error{errors.New("connection reset by peer")}
	_, err := f.proc.Process(context.Background(), events.SQSEvent{Records: []events.SQSMessage{rec("first", reqBody("r-9", "+447400000009"))}})
	require.NoError(t, err)
	resp, err := f.proc.Process(context.Background(), events.SQSEvent{Records: []events.SQSMessage{
		rec("m-rejected", reqBody("r-1", "+447400000001")),
		rec("m-unknown", reqBody("r-3", "+447400000003")),
		rec("m-unclassified", reqBody("r-6", "+447400000006")),
		rec("m-national", reqBody("r-5", "07400 000005")),
		rec("m-garbage", `{"requestId":`),
		rec("m-type", `{"requestId":7}`),
		rec("m-empty", `{}`),
		rec("m-conflict", reqBody("r-9", "+447400000008")),
	}})
	require.NoError(t, err)
	require.Empty(t, resp.BatchItemFailures)
	batchtest.RequireDeadLetters(t, f.sqs, map[string]batchtest.DeadLetter{
		"m-rejected":     {Class: "rejected", Reason: "fake rejected (21211): invalid 'To' number +44*********01"},
		"m-unknown":      {Class: "unknown-outcome", Reason: "sms request r-3: outcome unknown, not resent: the provider's answer does not prove the text was refused: fake unknown-outcome (no-response): no answer"},
		"m-unclassified": {Class: "unknown-outcome", Reason: "sms request r-6: outcome unknown, not resent: the provider's answer does not prove the text was refused: connection reset by peer"},
		"m-national":     {Class: "validation", Reason: "invalid sms request: to *********05 is not in E.164 form (must start with +)"},
		"m-garbage":      {Class: "decode", Reason: "decode sms request: invalid JSON at offset 13"},
		"m-type":         {Class: "decode", Reason: "decode sms request: field requestId: want string, got number"},
		"m-empty":        {Class: "validation", Reason: "invalid sms request: requestId is empty\ninvalid sms request: to  is not in E.164 form (must start with +)\ninvalid sms request: body is empty"},
		"m-conflict":     {Class: "conflict", Reason: "requestId r-9 was used before for a different number, body or sender"},
	})
	require.Equal(t, 1, f.count.Get("SMSRejected"))
	require.Equal(t, 2, f.count.Get("SMSUnknownOutcome"))
	require.Equal(t, 1, f.count.Get("SMSConflict"))
}
