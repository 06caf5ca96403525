//go:build integration

package batch_test

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/require"

	"github.com/offload/offload/internal/testenv"
	"github.com/offload/offload/pkg/batch"
	"github.com/offload/offload/pkg/logging"
	"github.com/offload/offload/pkg/message"
	"github.com/offload/offload/pkg/producer"
	"github.com/offload/offload/pkg/tracing"
	"github.com/offload/offload/pkg/tracing/tracingtest"
)

type queue struct{ url, arn string }

func createQueue(t *testing.T, client *sqs.Client, name string, attrs map[string]string) queue {
	t.Helper()
	ctx := context.Background()
	out, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: &name, Attributes: attrs})
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = client.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: out.QueueUrl}) })
	got, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: out.QueueUrl, AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn}})
	require.NoError(t, err)
	return queue{url: aws.ToString(out.QueueUrl), arn: got.Attributes["QueueArn"]}
}

// receiveEvent receives up to n messages the way the Lambda poller does and
// turns them into an SQS event.
func receiveEvent(t *testing.T, client *sqs.Client, q queue, n int) events.SQSEvent {
	t.Helper()
	var ev events.SQSEvent
	deadline := time.Now().Add(20 * time.Second)
	for len(ev.Records) < n && time.Now().Before(deadline) {
		out, err := client.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
			QueueUrl: &q.url, MaxNumberOfMessages: int32(n - len(ev.Records)), WaitTimeSeconds: 1,
			MessageAttributeNames:       []string{"All"},
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
		})
		require.NoError(t, err)
		for _, m := range out.Messages {
			rec := events.SQSMessage{
				MessageId: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle), Body: aws.ToString(m.Body),
				Attributes: m.Attributes, EventSourceARN: q.arn, EventSource: "aws:sqs", AWSRegion: "us-east-1",
				MessageAttributes: map[string]events.SQSMessageAttribute{},
			}
			for k, v := range m.MessageAttributes {
				rec.MessageAttributes[k] = events.SQSMessageAttribute{DataType: aws.ToString(v.DataType), StringValue: v.StringValue, BinaryValue: v.BinaryValue}
			}
			ev.Records = append(ev.Records, rec)
		}
	}
	require.Len(t, ev.Records, n)
	return ev
}

func TestIntegrationPermanentFailureLandsInDLQWithReason(t *testing.T) {
	t.Parallel()
	cfg := testenv.AWSConfig(t)
	client := sqs.NewFromConfig(cfg)
	name := testenv.UniqueName("batch")
	// A 1 s visibility timeout: records the test does not delete come back at once.
	src := createQueue(t, client, name, map[string]string{"VisibilityTimeout": "1"})
	dlq := createQueue(t, client, name+"-dlq", nil)

	pub, err := producer.New(client, src.url, producer.WithDefaultType(message.TypeAudit, "1"))
	require.NoError(t, err)
	tr, _ := tracingtest.New(t)
	ctx, span := tr.Start(context.Background(), "batch-integration", tracing.WithKind(tracing.KindServer))
	seg := span.Context()
	results, err := pub.PublishBatch(ctx, []producer.Message{
		{Body: `{"auditText":"fine"}`, IdempotencyKey: "good-1"},
		{Body: `{"auditText":`, IdempotencyKey: "broken-1", Attributes: map[string]string{"tenant": "t-9"}},
		{Body: `{"auditText":"flaky"}`, IdempotencyKey: "flaky-1"},
	})
	require.NoError(t, err)

	handler := func(_ context.Context, m events.SQSMessage) error {
		a, err := decodeAudit(m.Body)
		if err != nil {
			return err
		}
		if a.AuditText == "flaky" {
			return errors.New("throttled")
		}
		return nil
	}
	p, err := batch.New(handler, batch.WithDeadLetter(client, dlq.url),
		batch.WithBackoff(client, batch.ExponentialBackoff(30*time.Second, time.Hour)),
		batch.WithLogger(logging.New(logging.WithOutput(io.Discard))))
	require.NoError(t, err)

	ev := receiveEvent(t, client, src, 3)
	resp, err := p.Process(context.Background(), ev)
	require.NoError(t, err)
	require.Equal(t, []string{results[2].MessageID}, failureIDs(resp), "only the transient failure is redelivered")

	got := receiveEvent(t, client, dlq, 1).Records[0]
	require.Equal(t, `{"auditText":`, got.Body, "the original body")
	attr := func(name string) string {
		a, ok := got.MessageAttributes[name]
		require.True(t, ok, "attribute %s on the dead letter", name)
		return aws.ToString(a.StringValue)
	}
	require.Equal(t, message.ClassDecode, attr(message.AttrFailureClass))
	require.Equal(t, "decode audit message: unexpected end of JSON input", attr(message.AttrFailureReason))
	require.Equal(t, src.arn, attr(message.AttrSourceQueue))
	require.Equal(t, results[1].MessageID, attr(message.AttrOriginalMessageID))
	require.Equal(t, "1", attr(message.AttrReceiveCount))
	_, err = time.Parse(time.RFC3339, attr(message.AttrFailedAt))
	require.NoError(t, err)
	require.Equal(t, "broken-1", attr(message.AttrIdempotencyKey))
	require.Equal(t, message.TypeAudit, attr(message.AttrType))
	require.Equal(t, "t-9", attr("tenant"))
	require.Contains(t, got.Attributes[message.SystemAttrTraceHeader], seg.TraceID, "the trace follows the record to the DLQ")

	// The transient record was hidden for 30 s (receive count 1); the two
	// others (not deleted here: the Lambda poller would) come back after 1 s.
	time.Sleep(1500 * time.Millisecond)
	visible := map[string]bool{}
	for end := time.Now().Add(2 * time.Second); time.Now().Before(end); {
		out, err := client.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: &src.url, MaxNumberOfMessages: 10, VisibilityTimeout: 30})
		require.NoError(t, err)
		for _, m := range out.Messages {
			visible[aws.ToString(m.MessageId)] = true
		}
	}
	require.Equal(t, map[string]bool{results[0].MessageID: true, results[1].MessageID: true}, visible,
		"the transient failure's visibility was extended; the others came back")
}
