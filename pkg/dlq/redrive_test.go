package dlq

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/require"

	"github.com/offload/offload/pkg/message"
)

// moveTaskSQS is an SQS whose StartMessageMoveTask works, as in AWS: the task
// moves two messages per status read, then completes (or fails).
type moveTaskSQS struct {
	RedriveAPI // anything else is a test failure (nil interface → panic)
	mu         sync.Mutex
	started    *sqs.StartMessageMoveTaskInput
	reads      int
	total      int64
	fail       bool
}

func (f *moveTaskSQS) StartMessageMoveTask(_ context.Context, in *sqs.StartMessageMoveTaskInput, _ ...func(*sqs.Options)) (*sqs.StartMessageMoveTaskOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.started = in
	return &sqs.StartMessageMoveTaskOutput{TaskHandle: aws.String("task-1")}, nil
}

func (f *moveTaskSQS) ListMessageMoveTasks(_ context.Context, in *sqs.ListMessageMoveTasksInput, _ ...func(*sqs.Options)) (*sqs.ListMessageMoveTasksOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	moved := min(int64(f.reads*2), f.total)
	status := "RUNNING"
	var reason *string
	if moved == f.total {
		status = "COMPLETED"
		if f.fail {
			status, reason = "FAILED", aws.String("AWS.SimpleQueueService.NonExistentQueue")
		}
	}
	return &sqs.ListMessageMoveTasksOutput{Results: []types.ListMessageMoveTasksResultEntry{
		{TaskHandle: aws.String("older-task"), Status: aws.String("COMPLETED"), ApproximateNumberOfMessagesMoved: 99},
		{TaskHandle: aws.String("task-1"), Status: aws.String(status), SourceArn: in.SourceArn,
			ApproximateNumberOfMessagesMoved: moved, ApproximateNumberOfMessagesToMove: aws.Int64(f.total), FailureReason: reason},
	}}, nil
}

var (
	dead = Queue{URL: "https://sqs.eu-west-1.amazonaws.com/123456789012/audit-dlq", ARN: "arn:aws:sqs:eu-west-1:123456789012:audit-dlq"}
	src  = Queue{URL: "https://sqs.eu-west-1.amazonaws.com/123456789012/audit", ARN: "arn:aws:sqs:eu-west-1:123456789012:audit"}
)

func TestRedriveFollowsTheMoveTaskToTheEnd(t *testing.T) {
	t.Parallel()
	f := &moveTaskSQS{total: 5}
	var seen []Progress
	p, err := Redrive(context.Background(), f, dead, src, RedriveOptions{Rate: 7.9, PollInterval: time.Millisecond,
		Progress: func(p Progress) { seen = append(seen, p) }})
	require.NoError(t, err)
	require.Equal(t, dead.ARN, aws.ToString(f.started.SourceArn))
	require.Equal(t, src.ARN, aws.ToString(f.started.DestinationArn))
	require.Equal(t, int32(7), aws.ToInt32(f.started.MaxNumberOfMessagesPerSecond))
	require.Equal(t, Progress{Method: "move-task", Moved: 5, Total: 5, Done: true}, p, "the other task's 99 are not ours")
	require.Equal(t, []int64{2, 4, 5}, []int64{seen[0].Moved, seen[1].Moved, seen[2].Moved})
}

func TestRedriveReportsAFailedMoveTask(t *testing.T) {
	t.Parallel()
	_, err := Redrive(context.Background(), &moveTaskSQS{total: 1, fail: true}, dead, src, RedriveOptions{PollInterval: time.Millisecond})
	require.ErrorContains(t, err, "FAILED")
	require.ErrorContains(t, err, "NonExistentQueue")
}

// refusingSQS refuses StartMessageMoveTask, as the emulator does, and has an
// empty DLQ for the mover.
type refusingSQS struct {
	RedriveAPI
	receives int
}

func (f *refusingSQS) StartMessageMoveTask(context.Context, *sqs.StartMessageMoveTaskInput, ...func(*sqs.Options)) (*sqs.StartMessageMoveTaskOutput, error) {
	return nil, errors.New("InternalFailure: 500")
}

func (f *refusingSQS) GetQueueAttributes(context.Context, *sqs.GetQueueAttributesInput, ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error) {
	return &sqs.GetQueueAttributesOutput{Attributes: map[string]string{"ApproximateNumberOfMessages": "0"}}, nil
}

func (f *refusingSQS) ReceiveMessage(context.Context, *sqs.ReceiveMessageInput, ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	f.receives++
	return &sqs.ReceiveMessageOutput{}, nil
}

func TestRedriveFallsBackToTheMoverWhenTheTaskIsRefused(t *testing.T) {
	t.Parallel()
	f := &refusingSQS{}
	p, err := Redrive(context.Background(), f, dead, src, RedriveOptions{})
	require.NoError(t, err)
	require.Equal(t, "mover", p.Method)
	require.True(t, p.Done)
	require.Equal(t, 2, f.receives, "two empty receives end the mover")
}

// A redriven copy keeps the first enqueue time, or takes it from the dead
// letter's SentTimestamp (SQS keeps the original enqueue time in a DLQ),
// because the copy gets a new SentTimestamp of its own.
func TestResendKeepsTheFirstEnqueueTime(t *testing.T) {
	t.Parallel()
	bare := types.Message{MessageId: aws.String("a"), Body: aws.String("{}"),
		Attributes: map[string]string{"SentTimestamp": "1764201600123"},
		MessageAttributes: map[string]types.MessageAttributeValue{
			message.AttrFailureClass: {DataType: aws.String("String"), StringValue: aws.String("unknown-outcome")},
		}}
	e := resendEntry("0", bare, false)
	require.Equal(t, "2025-11-27T00:00:00.123Z", aws.ToString(e.MessageAttributes[message.AttrFirstEnqueuedAt].StringValue))
	require.NotContains(t, e.MessageAttributes, message.AttrFailureClass, "failure attributes are dropped")

	carried := bare
	carried.MessageAttributes = map[string]types.MessageAttributeValue{
		message.AttrFirstEnqueuedAt: {DataType: aws.String("String"), StringValue: aws.String("2025-11-01T08:00:00.000Z")},
	}
	e = resendEntry("0", carried, false)
	require.Equal(t, "2025-11-01T08:00:00.000Z", aws.ToString(e.MessageAttributes[message.AttrFirstEnqueuedAt].StringValue), "kept across redrives")
}
