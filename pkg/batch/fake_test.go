package batch_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/require"

	"github.com/offload/offload/pkg/logging"
	"github.com/offload/offload/pkg/message"
	"github.com/offload/offload/pkg/tracing"
)

const sourceARN = "arn:aws:sqs:us-east-1:123456789012:audit"

// fakeSQS is a hand-written DeadLetterAPI and VisibilityAPI.
type fakeSQS struct {
	mu       sync.Mutex
	sent     []*sqs.SendMessageInput
	traces   []string // tracing.TraceHeader of each SendMessage's context
	sendErr  error
	vis      []*sqs.ChangeMessageVisibilityInput
	urlCalls int
}

func (f *fakeSQS) SendMessage(ctx context.Context, in *sqs.SendMessageInput, _ ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.traces = append(f.traces, tracing.TraceHeader(ctx))
	if f.sendErr != nil {
		return nil, f.sendErr
	}
	f.sent = append(f.sent, in)
	return &sqs.SendMessageOutput{MessageId: aws.String(fmt.Sprintf("dlq-%d", len(f.sent)))}, nil
}

func (f *fakeSQS) GetQueueUrl(_ context.Context, in *sqs.GetQueueUrlInput, _ ...func(*sqs.Options)) (*sqs.GetQueueUrlOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.urlCalls++
	return &sqs.GetQueueUrlOutput{QueueUrl: aws.String("https://sqs.local/" + aws.ToString(in.QueueOwnerAWSAccountId) + "/" + aws.ToString(in.QueueName))}, nil
}

func (f *fakeSQS) ChangeMessageVisibility(_ context.Context, in *sqs.ChangeMessageVisibilityInput, _ ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.vis = append(f.vis, in)
	return &sqs.ChangeMessageVisibilityOutput{}, nil
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
				"AWSTraceHeader":          "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
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

type logBuf struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// lines decodes every JSON log line.
func (l *logBuf) lines(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.Lines(l.String()) {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m))
		out = append(out, m)
	}
	return out
}

// byMessage returns the outcome line of each message id.
func (l *logBuf) byMessage(t *testing.T) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, m := range l.lines(t) {
		if id, ok := m[logging.FieldMessageID].(string); ok {
			require.NotContains(t, out, id, "one line per record")
			out[id] = m
		}
	}
	return out
}

func newLogger(buf *logBuf) *logrus.Logger {
	return logging.New(logging.WithOutput(buf), logging.WithLevel("info"))
}
