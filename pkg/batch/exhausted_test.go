package batch_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/stretchr/testify/require"

	"github.com/offload/offload/pkg/batch"
	"github.com/offload/offload/pkg/batch/batchtest"
	"github.com/offload/offload/pkg/message"
)

// A record that still fails transiently on the queue's last receive is
// dead-lettered by the processor with its reason. Left to SQS, the next
// receive would move it to the DLQ with no reason at all (found by the fault
// campaign: records whose budget faults had spent arrived bare).
func TestLastReceiveTransientFailureIsDeadLetteredWithItsReason(t *testing.T) {
	t.Parallel()
	dlq := &batchtest.SQS{}
	h := func(context.Context, events.SQSMessage) error { return errors.New("dynamodb: throttled") }
	p, _ := newProcessor(t, h, batch.WithDeadLetter(dlq, "https://sqs.local/123456789012/audit-dlq"), batch.WithMaxReceiveCount(3))
	recs := records(3)
	recs[0].Attributes["ApproximateReceiveCount"] = "2" // not the last: retried
	recs[1].Attributes["ApproximateReceiveCount"] = "3" // the last: dead-lettered here
	recs[2].Attributes["ApproximateReceiveCount"] = "4" // past it (a redrive policy raised later)
	resp, err := p.Process(context.Background(), events.SQSEvent{Records: recs})
	require.NoError(t, err)
	require.Equal(t, []string{"msg-1"}, failureIDs(resp))
	require.Len(t, dlq.DeadLetters(), 2)
	for _, in := range dlq.DeadLetters() {
		require.Equal(t, message.ClassRetriesExhausted, aws.ToString(in.MessageAttributes[message.AttrFailureClass].StringValue))
		require.Contains(t, aws.ToString(in.MessageAttributes[message.AttrFailureReason].StringValue), "dynamodb: throttled")
	}
}

// A record skipped for the deadline on its last receive would be moved by
// SQS without a reason on the next: it is dead-lettered, saying it was never
// attempted.
func TestLastReceiveSkippedRecordIsDeadLetteredNotLeftBare(t *testing.T) {
	t.Parallel()
	dlq := &batchtest.SQS{}
	p, _ := newProcessor(t, func(context.Context, events.SQSMessage) error { return nil },
		batch.WithDeadLetter(dlq, "https://sqs.local/123456789012/audit-dlq"), batch.WithMaxReceiveCount(3), batch.WithDeadlineMargin(time.Minute))
	recs := records(2)
	recs[1].Attributes["ApproximateReceiveCount"] = "3"
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(10*time.Second))
	defer cancel()
	resp, err := p.Process(ctx, events.SQSEvent{Records: recs})
	require.NoError(t, err)
	require.Equal(t, []string{"msg-1"}, failureIDs(resp))
	require.Len(t, dlq.DeadLetters(), 1)
	require.Equal(t, message.ClassRetriesExhausted, aws.ToString(dlq.DeadLetters()[0].MessageAttributes[message.AttrFailureClass].StringValue))
	require.Contains(t, aws.ToString(dlq.DeadLetters()[0].MessageAttributes[message.AttrFailureReason].StringValue), "never attempted")
}

func TestMaxReceiveCountNeedsADeadLetterQueue(t *testing.T) {
	t.Parallel()
	_, err := batch.New(func(context.Context, events.SQSMessage) error { return nil }, batch.WithMaxReceiveCount(3))
	require.ErrorContains(t, err, "max receive count needs a dead-letter queue")
	_, err = batch.New(func(context.Context, events.SQSMessage) error { return nil }, batch.WithMaxReceiveCount(-1))
	require.ErrorContains(t, err, "max receive count")
}
