package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/offload/offload/pkg/logging"
	"github.com/offload/offload/pkg/sms"
)

// The sent-but-unrecorded line is logged through the record's logger in the
// context: with several invocations in one environment it must carry its
// own invocation's request id and trace, and the SMS request id under its
// own name, never under request_id.
func TestUnrecordedIsLoggedWithTheRecordsLogger(t *testing.T) {
	var out bytes.Buffer
	base := logging.New(logging.WithOutput(&out), logging.WithLevel("info")).
		WithField(logging.FieldRequestID, "lambda-req-1").WithField(logging.FieldTraceID, "1-6b0f7045-0ca79c169620fd72e5b5537b").
		WithField(logging.FieldMessageID, "msg-1")
	ctx := logging.WithContext(context.Background(), base)

	logUnrecorded(ctx, sms.Request{RequestID: "order-17", To: "+14155550123", Body: "secret body"}, sms.Receipt{Provider: "sns", ID: "sns-1"}, errors.New("dynamodb down"))

	var line map[string]any
	require.NoError(t, json.Unmarshal(out.Bytes(), &line), out.String())
	require.Equal(t, "lambda-req-1", line[logging.FieldRequestID])
	require.Equal(t, "1-6b0f7045-0ca79c169620fd72e5b5537b", line[logging.FieldTraceID])
	require.Equal(t, "msg-1", line[logging.FieldMessageID])
	require.Equal(t, "order-17", line["sms_request_id"])
	require.Equal(t, "sns-1", line["provider_id"])
	require.Equal(t, "error", line["level"])
	require.NotContains(t, out.String(), "4155550123", "the number is masked")
	require.NotContains(t, out.String(), "secret body")
}
