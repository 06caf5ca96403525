//go:build integration

package producer_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/require"

	"github.com/offload/offload/internal/testenv"
	"github.com/offload/offload/pkg/message"
	"github.com/offload/offload/pkg/producer"
)

func newQueue(t testing.TB, client *sqs.Client) string {
	t.Helper()
	ctx := context.Background()
	out, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(testenv.UniqueName("producer"))})
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = client.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: out.QueueUrl}) })
	return aws.ToString(out.QueueUrl)
}

func receiveAll(t *testing.T, client *sqs.Client, url string, want int) []types.Message {
	t.Helper()
	var got []types.Message
	deadline := time.Now().Add(20 * time.Second)
	for len(got) < want && time.Now().Before(deadline) {
		out, err := client.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
			QueueUrl:                    &url,
			MaxNumberOfMessages:         10,
			WaitTimeSeconds:             1,
			MessageAttributeNames:       []string{"All"},
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
		})
		require.NoError(t, err)
		got = append(got, out.Messages...)
	}
	return got
}

func TestIntegrationPublishBatchOverTenWithTraceHeader(t *testing.T) {
	t.Parallel()
	cfg := testenv.AWSConfig(t)
	client := sqs.NewFromConfig(cfg)
	url := newQueue(t, client)
	pub, err := producer.New(client, url, producer.WithDefaultType(message.TypeAudit, "1"))
	require.NoError(t, err)

	ctx, seg := traced(t, "producer-integration")
	msgs := make([]producer.Message, 23)
	for i := range msgs {
		msgs[i] = producer.Message{Body: fmt.Sprintf(`{"auditText":"event %d"}`, i)}
	}
	results, err := pub.PublishBatch(ctx, msgs)
	require.NoError(t, err)
	byKey := map[string]producer.Result{}
	for _, r := range results {
		require.NotEmpty(t, r.MessageID)
		byKey[r.IdempotencyKey] = r
	}
	require.Len(t, byKey, 23)

	got := receiveAll(t, client, url, 23)
	require.Len(t, got, 23)
	bodies := map[string]bool{}
	for _, m := range got {
		bodies[aws.ToString(m.Body)] = true
		key := aws.ToString(m.MessageAttributes[message.AttrIdempotencyKey].StringValue)
		r, ok := byKey[key]
		require.True(t, ok, "received key %q was published", key)
		require.Equal(t, r.MessageID, aws.ToString(m.MessageId))
		require.Equal(t, message.TypeAudit, aws.ToString(m.MessageAttributes[message.AttrType].StringValue))
		require.Equal(t, "1", aws.ToString(m.MessageAttributes[message.AttrVersion].StringValue))
		th := m.Attributes[message.SystemAttrTraceHeader]
		require.Contains(t, th, "Root="+seg.TraceID, "AWSTraceHeader on the received message")
		require.Contains(t, th, "Parent="+seg.SpanID)
	}
	require.Len(t, bodies, 23)
}

func TestIntegrationPublishAndSizeGuard(t *testing.T) {
	t.Parallel()
	cfg := testenv.AWSConfig(t)
	client := sqs.NewFromConfig(cfg)
	url := newQueue(t, client)
	pub, err := producer.New(client, url, producer.WithDefaultType(message.TypeSMS, "1"), producer.WithMaxMessageBytes(4096))
	require.NoError(t, err)

	_, err = pub.Publish(context.Background(), producer.Message{Body: strings.Repeat("x", 5000), IdempotencyKey: "too-big"})
	require.ErrorIs(t, err, producer.ErrTooLarge)
	require.ErrorContains(t, err, "over the limit of 4096 bytes")

	res, err := pub.Publish(context.Background(), producer.Message{Body: "hello", IdempotencyKey: "req-1"})
	require.NoError(t, err)
	got := receiveAll(t, client, url, 1)
	require.Len(t, got, 1, "only the message within the limit reached the queue")
	require.Equal(t, res.MessageID, aws.ToString(got[0].MessageId))
	require.Equal(t, "hello", aws.ToString(got[0].Body))
	require.Equal(t, "req-1", aws.ToString(got[0].MessageAttributes[message.AttrIdempotencyKey].StringValue))
	require.NotContains(t, got[0].Attributes, message.SystemAttrTraceHeader, "no segment, no trace header")

	// A near-limit batch is split by bytes and SQS (1 MiB request limit) accepts every chunk.
	big, err := producer.New(client, url, producer.WithDefaultType(message.TypeSMS, "1"))
	require.NoError(t, err)
	msgs := make([]producer.Message, 5)
	for i := range msgs {
		msgs[i] = producer.Message{Body: strings.Repeat(fmt.Sprint(i), 400*1024)}
	}
	results, err := big.PublishBatch(context.Background(), msgs)
	require.NoError(t, err)
	for _, r := range results {
		require.NotEmpty(t, r.MessageID)
	}
}
