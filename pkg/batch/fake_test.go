package batch_test

import (
	"fmt"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/require"

	"github.com/offload/offload/pkg/batch/batchtest"
	"github.com/offload/offload/pkg/logging"
	"github.com/offload/offload/pkg/logging/loggingtest"
	"github.com/offload/offload/pkg/message"
	"github.com/offload/offload/pkg/tracing/tracingtest"
)

const sourceARN = "arn:aws:sqs:us-east-1:123456789012:audit"

// failingSQS is a batchtest.SQS whose sends fail with err.
func failingSQS(err error) *batchtest.SQS {
	f := &batchtest.SQS{}
	f.FailSends(err)
	return f
}

// records returns n records msg-1 … msg-n with producer attributes and a
// trace header, as Lambda delivers them.
func records(n int) []events.SQSMessage {
	recs := make([]events.SQSMessage, n)
	for i := range recs {
		key, typ, ver := fmt.Sprintf("key-%d", i+1), message.TypeAudit, "1"
		recs[i] = events.SQSMessage{
			MessageId:      fmt.Sprintf("msg-%d", i+1),
			ReceiptHandle:  fmt.Sprintf("rh-%d", i+1),
			Body:           fmt.Sprintf(`{"auditText":"secret body %d"}`, i+1),
			EventSourceARN: sourceARN,
			EventSource:    "aws:sqs",
			AWSRegion:      "us-east-1",
			Attributes: map[string]string{
				"ApproximateReceiveCount": "1",
				"AWSTraceHeader":          tracingtest.ProducerHeader,
			},
			MessageAttributes: map[string]events.SQSMessageAttribute{
				message.AttrIdempotencyKey: {StringValue: &key, DataType: "String"},
				message.AttrType:           {StringValue: &typ, DataType: "String"},
				message.AttrVersion:        {StringValue: &ver, DataType: "String"},
			},
		}
	}
	return recs
}

func failureIDs(resp events.SQSEventResponse) []string {
	ids := []string{}
	for _, f := range resp.BatchItemFailures {
		ids = append(ids, f.ItemIdentifier)
	}
	return ids
}

// byMessage returns the outcome line of each message id.
func byMessage(t *testing.T, l *loggingtest.Buffer) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, m := range l.Lines(t) {
		if id, ok := m[logging.FieldMessageID].(string); ok {
			require.NotContains(t, out, id, "one line per record")
			out[id] = m
		}
	}
	return out
}

func newLogger(buf *loggingtest.Buffer) *logrus.Logger {
	return logging.New(logging.WithOutput(buf), logging.WithLevel("info"))
}
