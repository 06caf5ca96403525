package main

import (
	"context"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/require"

	"github.com/offload/offload/pkg/batch/batchtest"
)

// TestDeadLetterClassesAndReasons pins the exact class and reason every
// permanent failure writes to the DLQ: alarms, runbooks and `offload dlq list`
// read them, so a refactoring of how errors are classified must not change a
// byte of them.
func TestDeadLetterClassesAndReasons(t *testing.T) {
	t.Parallel()
	f := setup(t)
	_, err := f.proc.Process(context.Background(), events.SQSEvent{Records: []events.SQSMessage{
		record("first", `{"messageId":"a","auditText":"signed in","auditTime":"2026-11-26T23:12:43Z"}`)}})
	require.NoError(t, err)
	resp, err := f.proc.Process(context.Background(), events.SQSEvent{Records: []events.SQSMessage{
		record("m-conflict", `{"messageId":"a","auditText":"signed out","auditTime":"2026-11-26T23:12:43Z"}`),
		record("m-truncated", `{"auditText":`),
		record("m-utf8", "{\"auditText\":\"\xff\"}"),
		record("m-time", `{"auditText":"x","auditTime":"soon"}`),
		record("m-empty", `{}`),
		record("m-future", `{"auditText":"x","auditTime":"2030-01-01T00:00:00Z"}`),
	}})
	require.NoError(t, err)
	require.Empty(t, resp.BatchItemFailures)
	batchtest.RequireDeadLetters(t, f.sqs, map[string]batchtest.DeadLetter{
		"m-conflict":  {Class: "conflict", Reason: "messageId a at 2026-11-26T23:12:43.0000000Z is already stored with different content"},
		"m-truncated": {Class: "decode", Reason: "decode audit message: unexpected end of JSON input"},
		"m-utf8":      {Class: "decode", Reason: "decode audit message: body is not UTF-8"},
		"m-time":      {Class: "decode", Reason: `decode audit message: auditTime "soon": not an ISO 8601 date-time`},
		"m-empty":     {Class: "validation", Reason: "invalid audit message: auditText is empty\ninvalid audit message: auditTime is missing or 0001-01-01T00:00:00 (an unset .NET DateTime)"},
		"m-future":    {Class: "validation", Reason: "invalid audit message: auditTime 2030-01-01T00:00:00.0000000Z is more than 24h0m0s in the future"},
	})
}
