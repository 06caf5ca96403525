//go:build integration

package dlq_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go/middleware"
	"github.com/stretchr/testify/require"

	"github.com/offload/offload/internal/testenv"
	"github.com/offload/offload/pkg/dlq"
	"github.com/offload/offload/pkg/message"
)

type queues struct {
	client      *sqs.Client
	src, dead   dlq.Queue
	srcN, deadN string
	// resends counts the SDK's second and later attempts of a
	// SendMessageBatch: each may store up to ten messages again when the
	// busy emulator lost the answer to the one before
	// (docs/local-runtime.md).
	resends *atomic.Int64
}

// countResends is a client option that counts, in n, every SendMessageBatch
// attempt after a call's first: calls are counted before the retry
// middleware, attempts after it (it runs each attempt through what follows
// it), and the difference is the resends.
func countResends(n *atomic.Int64) func(*sqs.Options) {
	count := func(id string, delta int64) middleware.FinalizeMiddleware {
		return middleware.FinalizeMiddlewareFunc(id, func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			if awsmiddleware.GetOperationName(ctx) == "SendMessageBatch" {
				n.Add(delta)
			}
			return next.HandleFinalize(ctx, in)
		})
	}
	return func(o *sqs.Options) {
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
			if err := st.Finalize.Insert(count("countCalls", -1), "Retry", middleware.Before); err != nil {
				return err
			}
			return st.Finalize.Insert(count("countAttempts", 1), "Retry", middleware.After)
		})
	}
}

func setup(t *testing.T) queues {
	t.Helper()
	ctx := context.Background()
	resends := &atomic.Int64{}
	client := sqs.NewFromConfig(testenv.AWSConfig(t), countResends(resends))
	name := testenv.UniqueName("dlqtest")
	q := queues{client: client, srcN: name, deadN: name + "-dlq", resends: resends}
	for _, x := range []struct {
		name string
		q    *dlq.Queue
	}{{q.deadN, &q.dead}, {q.srcN, &q.src}} {
		// Long polling on, as the stack's queues have it.
		out, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(x.name),
			Attributes: map[string]string{"ReceiveMessageWaitTimeSeconds": "20"}})
		require.NoError(t, err)
		attrs, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: out.QueueUrl, AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn}})
		require.NoError(t, err)
		*x.q = dlq.Queue{URL: *out.QueueUrl, ARN: attrs.Attributes["QueueArn"]}
		t.Cleanup(func() { _, _ = client.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: out.QueueUrl}) })
	}
	return q
}

// deadLetter puts a message in the DLQ the way the batch processor does.
func (q queues) deadLetter(t *testing.T, i int) string {
	t.Helper()
	str := func(v string) types.MessageAttributeValue {
		return types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
	}
	out, err := q.client.SendMessage(context.Background(), &sqs.SendMessageInput{
		QueueUrl:    aws.String(q.dead.URL),
		MessageBody: aws.String(fmt.Sprintf(`{"n":%d,"secret":"do-not-show"}`, i)),
		MessageAttributes: map[string]types.MessageAttributeValue{
			message.AttrIdempotencyKey: str(fmt.Sprintf("key-%d", i)),
			message.AttrType:           str("audit"),
			message.AttrFailureReason:  str(fmt.Sprintf("reason %d", i)),
			message.AttrFailureClass:   str("validation"),
			message.AttrReceiveCount:   str("1"),
		},
		MessageSystemAttributes: map[string]types.MessageSystemAttributeValue{
			"AWSTraceHeader": {DataType: aws.String("String"), StringValue: aws.String(fmt.Sprintf("Root=1-6740a1b2-%024d;Parent=53995c3f42cd8ad8;Sampled=1", i))},
		},
	})
	require.NoError(t, err)
	return *out.MessageId
}

func visible(t *testing.T, client *sqs.Client, url string) int {
	t.Helper()
	out, err := client.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameApproximateNumberOfMessages}})
	require.NoError(t, err)
	n, _ := strconv.Atoi(out.Attributes["ApproximateNumberOfMessages"])
	return n
}

func TestIntegrationSampleLeavesEveryMessageInTheDLQ(t *testing.T) {
	t.Parallel()
	q := setup(t)
	ids := map[string]bool{}
	for i := range 13 {
		ids[q.deadLetter(t, i)] = true
	}
	// Well inside a short function timeout, although the queue long-polls
	// for 20 s: the sampler must not wait for its empty receive.
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
	defer cancel()
	s, err := dlq.NewSampler(q.client, 5*time.Second).Sample(ctx, q.deadN, 12)
	require.NoError(t, err)
	require.Equal(t, 13, s.Visible)
	require.Len(t, s.Messages, 12)
	for _, m := range s.Messages {
		require.True(t, ids[m.MessageID], m.MessageID)
		require.Equal(t, "validation", m.FailureClass)
		require.Contains(t, m.FailureReason, "reason ")
		require.Equal(t, 1, m.ReceiveCount)
		require.False(t, m.SentAt.IsZero())
	}
	require.Equal(t, q.dead.ARN, s.QueueARN)

	// Asking for more than there is returns them all, as fast.
	all, err := dlq.NewSampler(q.client, 5*time.Second).Sample(ctx, q.deadN, 50)
	require.NoError(t, err)
	require.Len(t, all.Messages, 13)
	// Visible again at once, not after the sample's visibility timeout.
	require.Equal(t, 13, visible(t, q.client, q.dead.URL))
}

// The mover moves every message; when the answer to one of its sends is
// lost (injected: the emulator stores the batch, then answers 500), the
// SDK's resend stores that batch again, and nothing else is copied twice.
func TestIntegrationRedriveFallsBackToTheMoverAndLosesNothingWhenAnAnswerIsLost(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	q := setup(t)
	testenv.MustInjectFault(t, testenv.Fault{Service: "sqs", Operation: "SendMessageBatch", Match: q.srcN, After: true,
		Error: &testenv.FaultError{Status: 500, Code: "InternalError", Message: "answer lost after the work"}})
	want := map[string]bool{}
	for i := range 25 {
		q.deadLetter(t, i)
		want[fmt.Sprintf(`{"n":%d,"secret":"do-not-show"}`, i)] = true
	}
	var reports []dlq.Progress
	p, err := dlq.Redrive(ctx, q.client, q.dead, q.src, dlq.RedriveOptions{Rate: 100, Progress: func(p dlq.Progress) { reports = append(reports, p) }})
	require.NoError(t, err)
	// moto answers StartMessageMoveTask with 500: the mover must have run.
	require.Equal(t, "mover", p.Method)
	require.EqualValues(t, 25, p.Moved)
	require.EqualValues(t, 25, p.Total)
	require.Zero(t, p.Failed)
	require.True(t, p.Done)
	require.GreaterOrEqual(t, len(reports), 3, "progress reported as it goes")
	require.Equal(t, 0, visible(t, q.client, q.dead.URL))

	got := map[string]int{}
	for len(got) < 25 {
		out, err := q.client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(q.src.URL), MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
			MessageAttributeNames: []string{"All"}, MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll}})
		require.NoError(t, err)
		if len(out.Messages) == 0 {
			break
		}
		for _, m := range out.Messages {
			got[*m.Body]++
			require.Contains(t, m.MessageAttributes, message.AttrIdempotencyKey)
			require.Equal(t, "audit", *m.MessageAttributes[message.AttrType].StringValue)
			require.NotContains(t, m.MessageAttributes, message.AttrFailureReason, "failure attributes are dropped")
			require.Contains(t, m.Attributes["AWSTraceHeader"], "Root=1-6740a1b2-")
			_, err := q.client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(q.src.URL), ReceiptHandle: m.ReceiptHandle})
			require.NoError(t, err)
		}
	}
	require.Len(t, got, 25)
	// Each message once; a second copy only where the SDK resent a batch
	// whose answer the emulator lost, and no more copies than those resends
	// could store (at-least-once, as SQS documents).
	extra := 0
	for body, n := range got {
		require.True(t, want[body], body)
		extra += n - 1
	}
	t.Logf("%d messages stored twice after %d resent batches", extra, q.resends.Load())
	require.GreaterOrEqual(t, q.resends.Load(), int64(1), "the lost answer was resent")
	require.GreaterOrEqual(t, extra, 1, "the batch whose answer was lost is stored twice (at-least-once)")
	require.LessOrEqual(t, int64(extra), 10*q.resends.Load(), "copies beyond what the SDK's resends stored: the mover moved a message twice: %v", got)
}

func TestIntegrationSNSNotifierReachesAnSQSSubscriber(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg := testenv.AWSConfig(t)
	snsc, sqsc := sns.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	name := testenv.UniqueName("notify")
	topic, err := snsc.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(name)})
	require.NoError(t, err)
	q, err := sqsc.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name)})
	require.NoError(t, err)
	attrs, err := sqsc.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn}})
	require.NoError(t, err)
	_, err = snsc.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String(attrs.Attributes["QueueArn"]),
		Attributes: map[string]string{"RawMessageDelivery": "true"}})
	require.NoError(t, err)

	n := dlq.Notification{Environment: "local", Alarm: dlq.Alarm{Name: "x-dlq", State: dlq.StateAlarm, Namespace: "AWS/SQS",
		Dimensions: map[string]string{"QueueName": "x-dlq"}}, Sample: &dlq.Sample{QueueName: "x-dlq", Visible: 1,
		Messages: []dlq.SampledMessage{{MessageID: "m-9", FailureReason: "cannot decode"}}}}
	require.NoError(t, dlq.SNSNotifier{Client: snsc, TopicARN: *topic.TopicArn}.Notify(ctx, n))

	out, err := sqsc.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, WaitTimeSeconds: 2})
	require.NoError(t, err)
	require.Len(t, out.Messages, 1)
	var js map[string]any
	require.NoError(t, json.Unmarshal([]byte(*out.Messages[0].Body), &js), *out.Messages[0].Body)
	require.Equal(t, "offload.dlq-alarm", js["kind"])
	require.Equal(t, "m-9", js["messages"].([]any)[0].(map[string]any)["messageId"])
}

// A message that still fails comes back to the DLQ during the redrive — as a
// new message naming the original (the batch processor), or as the same
// message (SQS's own redrive). Either way it is moved once and left there:
// no ping-pong between the queues.
func TestIntegrationRedriveMovesWhatTheDLQHeldNotWhatComesBack(t *testing.T) {
	t.Parallel()
	for _, how := range []string{"dead-lettered again by the consumer", "moved back by SQS after maxReceiveCount"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			q := setup(t)
			if how == "moved back by SQS after maxReceiveCount" {
				_, err := q.client.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(q.src.URL), Attributes: map[string]string{
					"RedrivePolicy": `{"deadLetterTargetArn":"` + q.dead.ARN + `","maxReceiveCount":"1"}`}})
				require.NoError(t, err)
			}
			for i := range 3 {
				q.deadLetter(t, i)
			}
			// A consumer for which every message still fails.
			go func() {
				for ctx.Err() == nil {
					out, err := q.client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(q.src.URL), MaxNumberOfMessages: 10,
						WaitTimeSeconds: 1, VisibilityTimeout: 1}) // 0 would not be sent: the queue default applies
					if err != nil {
						continue
					}
					for _, m := range out.Messages {
						if how != "dead-lettered again by the consumer" {
							continue // SQS moves it on a later receive
						}
						_, _ = q.client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(q.dead.URL), MessageBody: m.Body,
							MessageAttributes: map[string]types.MessageAttributeValue{
								message.AttrOriginalMessageID: {DataType: aws.String("String"), StringValue: m.MessageId},
								message.AttrFailureReason:     {DataType: aws.String("String"), StringValue: aws.String("still broken")}}})
						_, _ = q.client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(q.src.URL), ReceiptHandle: m.ReceiptHandle})
					}
				}
			}()
			rctx, rcancel := context.WithTimeout(ctx, 60*time.Second)
			defer rcancel()
			p, err := dlq.Redrive(rctx, q.client, q.dead, q.src, dlq.RedriveOptions{ForceMover: true})
			require.NoError(t, err, "the redrive ends")
			require.EqualValues(t, 3, p.Moved, "each message moved once")
			require.Eventually(t, func() bool { return visible(t, q.client, q.dead.URL) == 3 }, 20*time.Second, 200*time.Millisecond,
				"the three came back to the DLQ and stay there")
		})
	}
}
