package dlq

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"golang.org/x/time/rate"

	"github.com/offload/offload/pkg/message"
)

// RedriveAPI is the subset of *sqs.Client operations redrive uses: SQS's
// move tasks, and for the mover what a Sampler reads with plus re-sending and
// deleting.
type RedriveAPI interface {
	ReadAPI
	StartMessageMoveTask(ctx context.Context, in *sqs.StartMessageMoveTaskInput, optFns ...func(*sqs.Options)) (*sqs.StartMessageMoveTaskOutput, error)
	ListMessageMoveTasks(ctx context.Context, in *sqs.ListMessageMoveTasksInput, optFns ...func(*sqs.Options)) (*sqs.ListMessageMoveTasksOutput, error)
	SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
	DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
}

// Queue names a queue by URL and ARN (redrive needs both).
type Queue struct {
	URL string
	ARN string
}

// Progress is reported while a redrive runs.
type Progress struct {
	// Method is "move-task" (SQS's StartMessageMoveTask) or "mover" (receive, re-send, delete).
	Method string
	// Moved is how many messages reached the destination so far.
	Moved int64
	// Total is the number of messages to move, as estimated at the start.
	Total int64
	// Failed is how many could not be re-sent (they stay in the DLQ).
	Failed int64
	// Done is true on the last report.
	Done bool
}

// RedriveOptions tune a redrive.
type RedriveOptions struct {
	// Rate caps messages per second (0: as fast as SQS allows).
	Rate float64
	// Progress, when set, is called after every step.
	Progress func(Progress)
	// PollInterval is how often a move task's status is read (default 2 s).
	PollInterval time.Duration
	// ForceMover skips StartMessageMoveTask.
	ForceMover bool
}

// Redrive moves every message in dlq back to dest. It uses SQS's
// StartMessageMoveTask and follows it to the end; where that API is missing
// (the local emulator answers 500) it falls back to Move. The returned
// Progress is the final one.
func Redrive(ctx context.Context, client RedriveAPI, dlq, dest Queue, opts RedriveOptions) (Progress, error) {
	if opts.PollInterval <= 0 {
		opts.PollInterval = 2 * time.Second
	}
	report := func(p Progress) {
		if opts.Progress != nil {
			opts.Progress(p)
		}
	}
	if !opts.ForceMover {
		in := &sqs.StartMessageMoveTaskInput{SourceArn: aws.String(dlq.ARN), DestinationArn: aws.String(dest.ARN)}
		if opts.Rate > 0 {
			in.MaxNumberOfMessagesPerSecond = aws.Int32(int32(max(1, opts.Rate)))
		}
		task, err := client.StartMessageMoveTask(ctx, in)
		if err == nil {
			return followTask(ctx, client, dlq, aws.ToString(task.TaskHandle), opts.PollInterval, report)
		}
		if ctx.Err() != nil {
			return Progress{Method: "move-task"}, ctx.Err()
		}
		// Any refusal falls through to the mover, which needs only the
		// receive/send/delete permissions; its own errors say what is wrong.
	}
	return Move(ctx, client, dlq.URL, dest.URL, opts.Rate, report)
}

func followTask(ctx context.Context, client RedriveAPI, dlq Queue, handle string, every time.Duration, report func(Progress)) (Progress, error) {
	p := Progress{Method: "move-task"}
	for {
		out, err := client.ListMessageMoveTasks(ctx, &sqs.ListMessageMoveTasksInput{SourceArn: aws.String(dlq.ARN), MaxResults: aws.Int32(10)})
		if err != nil {
			return p, fmt.Errorf("list move tasks of %s: %w", dlq.ARN, err)
		}
		for _, t := range out.Results {
			if aws.ToString(t.TaskHandle) != handle && handle != "" {
				continue
			}
			p.Moved = t.ApproximateNumberOfMessagesMoved
			p.Total = aws.ToInt64(t.ApproximateNumberOfMessagesToMove)
			switch aws.ToString(t.Status) {
			case "COMPLETED":
				p.Done = true
				report(p)
				return p, nil
			case "FAILED", "CANCELLED":
				p.Done = true
				report(p)
				return p, fmt.Errorf("move task %s: %s", aws.ToString(t.Status), aws.ToString(t.FailureReason))
			}
		}
		report(p)
		select {
		case <-ctx.Done():
			return p, ctx.Err()
		case <-time.After(every):
		}
	}
}

// Move re-sends every message of from to to and deletes it from from only
// once the send succeeded, rate messages per second at most (0: unlimited).
// Bodies, message attributes (less the failure attributes the batch processor
// added) and the X-Ray trace header are kept. A message whose send fails stays
// in from and is counted in Failed. A crash between send and delete can leave
// a message in both queues: consumers are idempotent, nothing is lost.
//
// Like SQS's move task, it moves what the DLQ held, not what arrives while it
// runs: a message that fails again and comes back during the redrive (as the
// same message, moved by SQS, or dead-lettered anew by the batch processor,
// which names it in offload.original-message-id) is left in the DLQ, so a
// still-poisoned message cannot ping-pong between the queues.
func Move(ctx context.Context, client RedriveAPI, fromURL, toURL string, perSecond float64, report func(Progress)) (Progress, error) {
	p := Progress{Method: "mover"}
	if report == nil {
		report = func(Progress) {}
	}
	if attrs, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(fromURL), AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameApproximateNumberOfMessages},
	}); err == nil {
		p.Total, _ = strconv.ParseInt(attrs.Attributes[string(types.QueueAttributeNameApproximateNumberOfMessages)], 10, 64)
	}
	limiter := rate.NewLimiter(rate.Inf, 10)
	if perSecond > 0 {
		limiter = rate.NewLimiter(rate.Limit(perSecond), 10)
	}
	fifo := strings.HasSuffix(toURL, ".fifo")
	resent := map[string]bool{} // ids the moved messages got in the destination
	var returned []types.ChangeMessageVisibilityBatchRequestEntry
	defer func() {
		// Messages that came back stay in the DLQ, visible again.
		for chunk := range slices.Chunk(returned, 10) {
			_, _ = client.ChangeMessageVisibilityBatch(context.WithoutCancel(ctx), &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: aws.String(fromURL), Entries: chunk})
		}
	}()
	empty := 0
	for empty < 2 {
		recv, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(fromURL), MaxNumberOfMessages: 10, VisibilityTimeout: 60, WaitTimeSeconds: 1,
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
			MessageAttributeNames:       []string{"All"},
		})
		if err != nil {
			return p, fmt.Errorf("receive from %s: %w", fromURL, err)
		}
		var batch []types.Message
		for _, m := range recv.Messages {
			if resent[aws.ToString(m.MessageId)] || resent[attr(m, message.AttrOriginalMessageID)] {
				returned = append(returned, types.ChangeMessageVisibilityBatchRequestEntry{
					Id: aws.String(strconv.Itoa(len(returned))), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0})
				continue
			}
			batch = append(batch, m)
		}
		if len(batch) == 0 {
			empty++
			continue
		}
		empty = 0
		if err := limiter.WaitN(ctx, len(batch)); err != nil {
			return p, err
		}
		recv.Messages = batch
		entries := make([]types.SendMessageBatchRequestEntry, len(batch))
		for i, m := range batch {
			entries[i] = resendEntry(strconv.Itoa(i), m, fifo)
		}
		sent, err := client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(toURL), Entries: entries})
		if err != nil {
			// Nothing was deleted: the messages reappear in the DLQ.
			return p, fmt.Errorf("send %d messages to %s: %w", len(entries), toURL, err)
		}
		var del []types.DeleteMessageBatchRequestEntry
		for _, ok := range sent.Successful {
			resent[aws.ToString(ok.MessageId)] = true
			i, _ := strconv.Atoi(aws.ToString(ok.Id))
			del = append(del, types.DeleteMessageBatchRequestEntry{Id: ok.Id, ReceiptHandle: recv.Messages[i].ReceiptHandle})
		}
		p.Failed += int64(len(sent.Failed))
		if len(del) > 0 {
			out, err := client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(fromURL), Entries: del})
			if err != nil {
				return p, fmt.Errorf("delete %d moved messages from %s (they are now in both queues): %w", len(del), fromURL, err)
			}
			p.Moved += int64(len(out.Successful))
		}
		report(p)
		if len(sent.Failed) > 0 && len(sent.Successful) == 0 {
			f := sent.Failed[0]
			return p, fmt.Errorf("send to %s refused: %s %s", toURL, aws.ToString(f.Code), aws.ToString(f.Message))
		}
	}
	p.Done = true
	report(p)
	if p.Failed > 0 {
		return p, fmt.Errorf("%d message(s) could not be re-sent and stay in the DLQ", p.Failed)
	}
	return p, nil
}

func attr(m types.Message, name string) string {
	if v, ok := m.MessageAttributes[name]; ok {
		return aws.ToString(v.StringValue)
	}
	return ""
}

// failureAttributes are what the batch processor added; a redriven message
// goes back as the producer sent it.
var failureAttributes = map[string]bool{
	message.AttrFailureReason: true, message.AttrFailureClass: true, message.AttrSourceQueue: true,
	message.AttrOriginalMessageID: true, message.AttrReceiveCount: true, message.AttrFailedAt: true,
}

func resendEntry(id string, m types.Message, fifo bool) types.SendMessageBatchRequestEntry {
	e := types.SendMessageBatchRequestEntry{Id: aws.String(id), MessageBody: m.Body}
	for name, v := range m.MessageAttributes {
		if failureAttributes[name] {
			continue
		}
		if e.MessageAttributes == nil {
			e.MessageAttributes = map[string]types.MessageAttributeValue{}
		}
		e.MessageAttributes[name] = types.MessageAttributeValue{DataType: v.DataType, StringValue: v.StringValue, BinaryValue: v.BinaryValue}
	}
	if _, ok := m.MessageAttributes[message.AttrFirstEnqueuedAt]; !ok {
		// The re-sent copy gets a new SentTimestamp: carry the first
		// enqueue time (SQS keeps the original enqueue time in the DLQ of a
		// standard queue) so consumers can tell how old the request is.
		if ms, err := strconv.ParseInt(m.Attributes[string(types.MessageSystemAttributeNameSentTimestamp)], 10, 64); err == nil && ms > 0 &&
			len(e.MessageAttributes) < message.MaxAttributes {
			if e.MessageAttributes == nil {
				e.MessageAttributes = map[string]types.MessageAttributeValue{}
			}
			e.MessageAttributes[message.AttrFirstEnqueuedAt] = types.MessageAttributeValue{DataType: aws.String("String"),
				StringValue: aws.String(time.UnixMilli(ms).UTC().Format(message.FirstEnqueuedLayout))}
		}
	}
	if h := m.Attributes[string(types.MessageSystemAttributeNameAWSTraceHeader)]; h != "" {
		e.MessageSystemAttributes = map[string]types.MessageSystemAttributeValue{
			string(types.MessageSystemAttributeNameForSendsAWSTraceHeader): {DataType: aws.String("String"), StringValue: aws.String(h)},
		}
	}
	if fifo {
		e.MessageGroupId = aws.String(m.Attributes[string(types.MessageSystemAttributeNameMessageGroupId)])
		e.MessageDeduplicationId = aws.String(firstNonEmpty(m.Attributes[string(types.MessageSystemAttributeNameMessageDeduplicationId)], aws.ToString(m.MessageId)))
	}
	return e
}
