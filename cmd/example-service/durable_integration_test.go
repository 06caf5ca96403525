//go:build integration

package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/require"

	"github.com/offload/offload/internal/testenv"
	"github.com/offload/offload/pkg/audit"
	"github.com/offload/offload/pkg/message"
	"github.com/offload/offload/pkg/producer"
)

// Against the emulator: ?durable=1 answers only once the message is on the
// queue (SQS's own count says so at the moment the client has the 202, with
// the MessageId SQS gave it); plain /audit answers while the record is still
// in the service's buffer, and the buffer's flush puts it there.
func TestDurableAuditIsOnTheQueueWhenAnswered(t *testing.T) {
	ctx := context.Background()
	client := sqs.NewFromConfig(testenv.AWSConfig(t))
	q, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(testenv.UniqueName("example-durable"))})
	require.NoError(t, err)
	url := aws.ToString(q.QueueUrl)
	t.Cleanup(func() { _, _ = client.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: &url}) })

	pub, err := producer.New(client, url, producer.WithDefaultType(message.TypeAudit, ""))
	require.NoError(t, err)
	svc := newTestService(t, &fakeStore{}, pub, &fakePublisher{})
	buf, err := newAuditBuffer(pub, 100, time.Hour, svc.log)
	require.NoError(t, err)
	svc.auditAsync = buf
	srv := httptest.NewServer(svc.routes())
	t.Cleanup(srv.Close)

	depth := func() int {
		out, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &url,
			AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameApproximateNumberOfMessages}})
		require.NoError(t, err)
		n, err := strconv.Atoi(out.Attributes[string(types.QueueAttributeNameApproximateNumberOfMessages)])
		require.NoError(t, err)
		return n
	}

	status, out := send(t, srv.URL+"/audit?durable=1", `{"messageId":"d-1","auditText":"durable"}`, nil)
	require.Equal(t, http.StatusAccepted, status, out)
	require.NotEmpty(t, out["sqsMessageId"])
	require.Equal(t, 1, depth(), "on the queue when the client has the 202")

	status, buffered := send(t, srv.URL+"/audit", `{"messageId":"b-1","auditText":"buffered"}`, nil)
	require.Equal(t, http.StatusAccepted, status, buffered)
	require.Equal(t, "queued", buffered["status"])
	require.Equal(t, 1, depth(), "the buffered record is not on the queue yet (flush interval 1h)")

	require.NoError(t, buf.Close(ctx))
	require.Equal(t, 2, depth(), "the flush put it there")

	got := map[string]string{}
	deadline := time.Now().Add(30 * time.Second)
	for len(got) < 2 && time.Now().Before(deadline) {
		r, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		require.NoError(t, err)
		for _, m := range r.Messages {
			a, err := audit.Decode([]byte(aws.ToString(m.Body)))
			require.NoError(t, err)
			got[a.MessageID] = aws.ToString(m.MessageId)
		}
	}
	require.Len(t, got, 2)
	require.Equal(t, out["sqsMessageId"], got["d-1"], "the 202 named the message SQS holds")
	require.Contains(t, got, "b-1")
}
