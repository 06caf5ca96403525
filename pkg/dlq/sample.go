package dlq

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/offload/offload/pkg/message"
)

// ReadAPI is the subset of *sqs.Client operations that read a queue without
// consuming it: its counts, receiving, and making what was received visible
// again. Both the Sampler and redrive's mover use them.
type ReadAPI interface {
	GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, optFns ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	ChangeMessageVisibilityBatch(ctx context.Context, in *sqs.ChangeMessageVisibilityBatchInput, optFns ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error)
}

// SampleAPI is the subset of *sqs.Client operations the Sampler uses.
type SampleAPI interface {
	ReadAPI
	GetQueueUrl(ctx context.Context, in *sqs.GetQueueUrlInput, optFns ...func(*sqs.Options)) (*sqs.GetQueueUrlOutput, error)
}

// Sample is what a DLQ holds, seen without consuming it.
type Sample struct {
	QueueName string
	QueueURL  string
	QueueARN  string
	// Visible and InFlight are SQS's approximate counts.
	Visible  int
	InFlight int
	// OldestAge is the age of the oldest sampled message (from its
	// SentTimestamp): a lower bound of the queue's oldest age.
	OldestAge time.Duration
	Messages  []SampledMessage
}

// SampledMessage describes one dead letter. It never holds the body.
type SampledMessage struct {
	MessageID string
	// OriginalMessageID is the id the message had on its source queue, when
	// the batch processor dead-lettered it.
	OriginalMessageID string
	// ReceiveCount is how often the source delivered it before it died:
	// the batch processor's record when present, else SQS's approximate
	// count less this sample's own receive.
	ReceiveCount int
	SentAt       time.Time
	// FailureReason and FailureClass are the batch processor's verdict;
	// empty when SQS moved the message after maxReceiveCount.
	FailureReason string
	FailureClass  string
	SourceQueue   string
	Type          string
	BodyBytes     int
}

// ReasonMaxReceives explains a dead letter the batch processor did not send:
// SQS moved it after maxReceiveCount failed or timed-out deliveries.
const ReasonMaxReceives = "moved by SQS after maxReceiveCount (the consumer failed or timed out each time)"

// Reason is why the message died: the batch processor's reason, or
// ReasonMaxReceives.
func (m SampledMessage) Reason() string {
	if m.FailureReason != "" {
		return m.FailureReason
	}
	return ReasonMaxReceives
}

// Sampler reads a DLQ without taking messages away from it.
type Sampler struct {
	client     SampleAPI
	visibility int32
	now        func() time.Time
}

// NewSampler returns a Sampler. Sampled messages are hidden for at most
// visibility (default 5 s, if the reset fails) and made visible again as soon
// as the sample is taken.
func NewSampler(client SampleAPI, visibility time.Duration) *Sampler {
	v := int32(visibility / time.Second)
	if v <= 0 {
		v = 5
	}
	return &Sampler{client: client, visibility: v, now: time.Now}
}

// Sample describes queueName and up to n of its messages, oldest first.
func (s *Sampler) Sample(ctx context.Context, queueName string, n int) (Sample, error) {
	urlOut, err := s.client.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(queueName)})
	if err != nil {
		return Sample{}, fmt.Errorf("get url of %s: %w", queueName, err)
	}
	return s.SampleURL(ctx, queueName, aws.ToString(urlOut.QueueUrl), n)
}

// SampleURL is Sample for a queue whose URL is known.
func (s *Sampler) SampleURL(ctx context.Context, queueName, url string, n int) (out Sample, err error) {
	out = Sample{QueueName: queueName, QueueURL: url}
	attrs, err := s.client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn,
			types.QueueAttributeNameApproximateNumberOfMessages, types.QueueAttributeNameApproximateNumberOfMessagesNotVisible},
	})
	if err != nil {
		return out, fmt.Errorf("get attributes of %s: %w", queueName, err)
	}
	out.QueueARN = attrs.Attributes[string(types.QueueAttributeNameQueueArn)]
	out.Visible, _ = strconv.Atoi(attrs.Attributes[string(types.QueueAttributeNameApproximateNumberOfMessages)])
	out.InFlight, _ = strconv.Atoi(attrs.Attributes[string(types.QueueAttributeNameApproximateNumberOfMessagesNotVisible)])

	var handles []types.ChangeMessageVisibilityBatchRequestEntry
	defer func() {
		// Put back what we took, whatever happened: the messages must stay
		// in the DLQ for the redrive.
		if rerr := s.release(context.WithoutCancel(ctx), url, handles); rerr != nil {
			err = errors.Join(err, rerr)
		}
	}()
	for len(out.Messages) < n {
		max := int32(min(10, n-len(out.Messages)))
		recv, rerr := s.client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:            aws.String(url),
			MaxNumberOfMessages: max,
			VisibilityTimeout:   s.visibility,
			// Explicitly 1 s: a zero is not sent, and the DLQ's own long
			// polling (20 s) would then hold an empty receive past a
			// short function timeout. One second also makes SQS look at
			// every server, so one empty answer means the queue is drained.
			WaitTimeSeconds:             1,
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
			MessageAttributeNames:       []string{"All"},
		})
		if rerr != nil {
			return out, fmt.Errorf("receive from %s: %w", queueName, rerr)
		}
		if len(recv.Messages) == 0 {
			break
		}
		for _, m := range recv.Messages {
			handles = append(handles, types.ChangeMessageVisibilityBatchRequestEntry{
				Id: aws.String(strconv.Itoa(len(handles))), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0,
			})
			out.Messages = append(out.Messages, describe(m))
		}
	}
	slices.SortFunc(out.Messages, func(a, b SampledMessage) int { return a.SentAt.Compare(b.SentAt) })
	if len(out.Messages) > 0 && !out.Messages[0].SentAt.IsZero() {
		out.OldestAge = s.now().Sub(out.Messages[0].SentAt).Truncate(time.Second)
	}
	return out, nil
}

func (s *Sampler) release(ctx context.Context, url string, entries []types.ChangeMessageVisibilityBatchRequestEntry) error {
	var errs []error
	for chunk := range slices.Chunk(entries, 10) {
		res, err := s.client.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: aws.String(url), Entries: chunk})
		if err != nil {
			errs = append(errs, fmt.Errorf("make %d sampled messages visible again: %w", len(chunk), err))
			continue
		}
		for _, f := range res.Failed {
			errs = append(errs, fmt.Errorf("make sampled message visible again: %s %s", aws.ToString(f.Code), aws.ToString(f.Message)))
		}
	}
	return errors.Join(errs...)
}

func describe(m types.Message) SampledMessage {
	sm := SampledMessage{MessageID: aws.ToString(m.MessageId), BodyBytes: len(aws.ToString(m.Body))}
	attr := func(name string) string {
		if v, ok := m.MessageAttributes[name]; ok {
			return aws.ToString(v.StringValue)
		}
		return ""
	}
	sm.FailureReason = attr(message.AttrFailureReason)
	sm.FailureClass = attr(message.AttrFailureClass)
	sm.SourceQueue = attr(message.AttrSourceQueue)
	sm.OriginalMessageID = attr(message.AttrOriginalMessageID)
	sm.Type = attr(message.AttrType)
	if rc, err := strconv.Atoi(attr(message.AttrReceiveCount)); err == nil {
		sm.ReceiveCount = rc
	} else if rc, err := strconv.Atoi(m.Attributes[string(types.MessageSystemAttributeNameApproximateReceiveCount)]); err == nil {
		sm.ReceiveCount = max(rc-1, 0)
	}
	if ms, err := strconv.ParseInt(m.Attributes[string(types.MessageSystemAttributeNameSentTimestamp)], 10, 64); err == nil {
		sm.SentAt = time.UnixMilli(ms).UTC()
	}
	return sm
}
