package producer_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/require"

	"github.com/offload/offload/pkg/message"
	"github.com/offload/offload/pkg/producer"
	"github.com/offload/offload/pkg/tracing"
	"github.com/offload/offload/pkg/tracing/tracingtest"
)

const queueURL = "https://sqs.us-east-1.amazonaws.com/123456789012/audit"

var uuidRE = `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`

// sleeps records the waits between attempts instead of sleeping.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func setup(t *testing.T, fake *fakeSQS, opts ...producer.Option) (*producer.Publisher, *sleeps) {
	t.Helper()
	s := &sleeps{}
	p, err := producer.New(fake, queueURL, append([]producer.Option{producer.WithSleep(s.sleep), producer.WithDefaultType(message.TypeAudit, "")}, opts...)...)
	require.NoError(t, err)
	return p, s
}

func attr(t *testing.T, attrs map[string]types.MessageAttributeValue, name string) string {
	t.Helper()
	v, ok := attrs[name]
	require.True(t, ok, "attribute %s missing", name)
	require.Equal(t, "String", aws.ToString(v.DataType))
	return aws.ToString(v.StringValue)
}

func TestPublishSetsKeyTypeVersionAndTrace(t *testing.T) {
	t.Parallel()
	fake := &fakeSQS{}
	p, _ := setup(t, fake)
	ctx, seg := traced(t, "svc")

	res, err := p.Publish(ctx, producer.Message{Body: `{"auditText":"x"}`, Attributes: map[string]string{"tenant": "t1"}})
	require.NoError(t, err)
	require.Equal(t, "m-1", res.MessageID)
	require.Regexp(t, uuidRE, res.IdempotencyKey)

	require.Len(t, fake.sends, 1)
	in := fake.sends[0]
	require.Equal(t, queueURL, aws.ToString(in.QueueUrl))
	require.Equal(t, `{"auditText":"x"}`, aws.ToString(in.MessageBody))
	require.Len(t, in.MessageAttributes, 5, "the producer's 3, the caller's and the W3C traceparent")
	require.Equal(t, res.IdempotencyKey, attr(t, in.MessageAttributes, message.AttrIdempotencyKey))
	require.Equal(t, message.TypeAudit, attr(t, in.MessageAttributes, message.AttrType))
	require.Equal(t, "1", attr(t, in.MessageAttributes, message.AttrVersion))
	require.Equal(t, "t1", attr(t, in.MessageAttributes, "tenant"))
	th := aws.ToString(in.MessageSystemAttributes[message.SystemAttrTraceHeader].StringValue)
	require.Contains(t, th, "Root="+seg.TraceID)
	require.Contains(t, th, "Parent="+seg.SpanID)
	require.Equal(t, tracing.TraceParentOf(th), attr(t, in.MessageAttributes, tracing.W3CTraceParentAttr))
	require.Regexp(t, `^00-`+seg.TraceID[2:10]+seg.TraceID[11:]+`-`+seg.SpanID+`-01$`, attr(t, in.MessageAttributes, tracing.W3CTraceParentAttr))
}

func TestPublishWithoutTraceHasNoSystemAttribute(t *testing.T) {
	t.Parallel()
	fake := &fakeSQS{}
	p, _ := setup(t, fake)
	res, err := p.Publish(context.Background(), producer.Message{Body: "b", Type: message.TypeSMS, Version: "2", IdempotencyKey: "req-42"})
	require.NoError(t, err)
	require.Equal(t, "req-42", res.IdempotencyKey)
	in := fake.sends[0]
	require.Empty(t, in.MessageSystemAttributes)
	require.Equal(t, "req-42", attr(t, in.MessageAttributes, message.AttrIdempotencyKey))
	require.Equal(t, message.TypeSMS, attr(t, in.MessageAttributes, message.AttrType))
	require.Equal(t, "2", attr(t, in.MessageAttributes, message.AttrVersion))
}

func TestSizeGuardRejectsBeforeAnyCall(t *testing.T) {
	t.Parallel()
	fake := &fakeSQS{}
	p, _ := setup(t, fake)
	big := strings.Repeat("x", message.MaxMessageBytes)
	_, err := p.Publish(context.Background(), producer.Message{Body: big, IdempotencyKey: "k"})
	require.ErrorIs(t, err, producer.ErrTooLarge)
	require.ErrorIs(t, err, producer.ErrInvalidMessage)
	var se *producer.SizeError
	require.ErrorAs(t, err, &se)
	// body + 3 attributes: names, "String" each, values "k", "audit", "1"
	wantSize := len(big) + len(message.AttrIdempotencyKey) + len(message.AttrType) + len(message.AttrVersion) + 3*6 + 1 + 5 + 1
	require.Equal(t, wantSize, se.Size)
	require.Equal(t, message.MaxMessageBytes, se.Limit)
	require.ErrorContains(t, err, fmt.Sprintf("message is %d bytes (body and attributes), over the limit of 1048576 bytes", wantSize))
	require.Empty(t, fake.sends)

	small, _ := setup(t, fake, producer.WithMaxMessageBytes(1024))
	results, err := small.PublishBatch(context.Background(), []producer.Message{{Body: strings.Repeat("y", 1000)}, {Body: "ok"}})
	require.ErrorIs(t, err, producer.ErrTooLarge)
	require.ErrorIs(t, results[0].Err, producer.ErrTooLarge)
	require.NoError(t, results[1].Err)
	require.Equal(t, []int{1}, fake.batchSizes(), "only the valid message is sent")
}

func TestPublishBatchChunksByCountAndKeepsOrder(t *testing.T) {
	t.Parallel()
	fake := &fakeSQS{}
	p, _ := setup(t, fake)
	msgs := make([]producer.Message, 25)
	for i := range msgs {
		msgs[i] = producer.Message{Body: fmt.Sprintf("body-%d", i)}
	}
	msgs[7].IdempotencyKey = "caller-key"
	results, err := p.PublishBatch(context.Background(), msgs)
	require.NoError(t, err)
	require.Equal(t, []int{10, 10, 5}, fake.batchSizes())
	keys := map[string]bool{}
	for i, r := range results {
		require.NoError(t, r.Err)
		require.Equal(t, fmt.Sprintf("m-%d", i+1), r.MessageID, "results are in input order")
		keys[r.IdempotencyKey] = true
		sent := fake.batches[i/10][i%10]
		require.Equal(t, fmt.Sprintf("body-%d", i), aws.ToString(sent.MessageBody))
		require.Equal(t, r.IdempotencyKey, attr(t, sent.MessageAttributes, message.AttrIdempotencyKey))
		require.Equal(t, fmt.Sprint(i%10), aws.ToString(sent.Id))
	}
	require.Len(t, keys, 25, "every message has its own key")
	require.Equal(t, "caller-key", results[7].IdempotencyKey)
}

func TestPublishBatchChunksByBytes(t *testing.T) {
	t.Parallel()
	fake := &fakeSQS{}
	p, _ := setup(t, fake)
	msgs := make([]producer.Message, 7)
	for i := range msgs {
		msgs[i] = producer.Message{Body: strings.Repeat("z", 300*1024)}
	}
	_, err := p.PublishBatch(context.Background(), msgs)
	require.NoError(t, err)
	require.Equal(t, []int{3, 3, 1}, fake.batchSizes(), "3 × 300 KiB fit in 1 MiB, 4 do not")
}

func entryFailure(id *string, code string, sender bool) types.BatchResultErrorEntry {
	return types.BatchResultErrorEntry{Id: id, Code: aws.String(code), Message: aws.String(code + " happened"), SenderFault: sender}
}

func TestOnlyRetryableEntriesAreRetriedWithTheSameKey(t *testing.T) {
	t.Parallel()
	fake := &fakeSQS{}
	fake.batchFn = func(call int, in *sqs.SendMessageBatchInput) (*sqs.SendMessageBatchOutput, error) {
		if call > 1 {
			return fake.acceptAll(in), nil
		}
		out := &sqs.SendMessageBatchOutput{}
		for j, e := range in.Entries {
			switch j {
			case 1:
				out.Failed = append(out.Failed, entryFailure(e.Id, "InternalError", false))
			case 2:
				out.Failed = append(out.Failed, entryFailure(e.Id, "InvalidParameterValue", true))
			case 3:
				out.Failed = append(out.Failed, entryFailure(e.Id, "RequestThrottled", true))
			default:
				out.Successful = append(out.Successful, types.SendMessageBatchResultEntry{Id: e.Id, MessageId: aws.String("first-" + aws.ToString(e.Id))})
			}
		}
		return out, nil
	}
	p, s := setup(t, fake)
	msgs := []producer.Message{{Body: "a"}, {Body: "b"}, {Body: "c"}, {Body: "d"}, {Body: "e"}}
	results, err := p.PublishBatch(context.Background(), msgs)

	var be *producer.BatchError
	require.ErrorAs(t, err, &be)
	require.Equal(t, 1, be.Failed)
	require.Equal(t, 5, be.Total)

	require.Len(t, fake.batches, 2)
	require.Len(t, fake.batches[1], 2, "only the two retryable entries are sent again")
	require.Equal(t, "b", aws.ToString(fake.batches[1][0].MessageBody))
	require.Equal(t, "d", aws.ToString(fake.batches[1][1].MessageBody))
	require.Equal(t, results[1].IdempotencyKey, attr(t, fake.batches[1][0].MessageAttributes, message.AttrIdempotencyKey), "same key on retry")
	require.Equal(t, results[1].IdempotencyKey, attr(t, fake.batches[0][1].MessageAttributes, message.AttrIdempotencyKey))

	require.NoError(t, results[0].Err)
	require.Equal(t, "first-0", results[0].MessageID)
	require.NoError(t, results[1].Err)
	require.NotEmpty(t, results[1].MessageID)
	require.NoError(t, results[3].Err)
	var ee *producer.EntryError
	require.ErrorAs(t, results[2].Err, &ee)
	require.Equal(t, "InvalidParameterValue", ee.Code)
	require.False(t, ee.Retryable)
	require.True(t, ee.SenderFault)
	require.Empty(t, results[2].MessageID)
	require.Len(t, s.d, 1)
}

func TestRetriesAreBoundedWithGrowingBackoff(t *testing.T) {
	t.Parallel()
	fake := &fakeSQS{}
	fake.batchFn = func(_ int, in *sqs.SendMessageBatchInput) (*sqs.SendMessageBatchOutput, error) {
		return &sqs.SendMessageBatchOutput{Failed: []types.BatchResultErrorEntry{entryFailure(in.Entries[0].Id, "ServiceUnavailable", false)}}, nil
	}
	p, s := setup(t, fake, producer.WithRetry(producer.RetryPolicy{MaxAttempts: 5, BaseDelay: 100 * time.Millisecond, MaxDelay: 500 * time.Millisecond}))
	results, err := p.PublishBatch(context.Background(), []producer.Message{{Body: "a"}})
	require.Error(t, err)
	var ee *producer.EntryError
	require.ErrorAs(t, results[0].Err, &ee)
	require.True(t, ee.Retryable)
	require.Len(t, fake.batches, 5)
	require.Len(t, s.d, 4)
	bounds := [][2]time.Duration{{50, 100}, {100, 200}, {200, 400}, {250, 500}}
	for i, d := range s.d {
		require.GreaterOrEqual(t, d, bounds[i][0]*time.Millisecond, "attempt %d", i+1)
		require.LessOrEqual(t, d, bounds[i][1]*time.Millisecond, "attempt %d", i+1)
	}
}

func TestWholeCallErrors(t *testing.T) {
	t.Parallel()
	throttled := &smithy.GenericAPIError{Code: "ThrottlingException", Message: "slow down", Fault: smithy.FaultClient}
	denied := &smithy.GenericAPIError{Code: "AccessDenied", Message: "no", Fault: smithy.FaultClient}

	fake := &fakeSQS{}
	fake.batchFn = func(call int, in *sqs.SendMessageBatchInput) (*sqs.SendMessageBatchOutput, error) {
		if call == 1 {
			return nil, throttled
		}
		return fake.acceptAll(in), nil
	}
	p, _ := setup(t, fake)
	results, err := p.PublishBatch(context.Background(), []producer.Message{{Body: "a"}, {Body: "b"}})
	require.NoError(t, err)
	require.Len(t, fake.batches, 2)
	require.NotEmpty(t, results[1].MessageID)

	fake2 := &fakeSQS{}
	fake2.batchFn = func(int, *sqs.SendMessageBatchInput) (*sqs.SendMessageBatchOutput, error) { return nil, denied }
	p2, s2 := setup(t, fake2)
	results, err = p2.PublishBatch(context.Background(), []producer.Message{{Body: "a"}, {Body: "b"}})
	require.ErrorIs(t, err, denied)
	require.Len(t, fake2.batches, 1, "a client fault is not retried")
	require.Empty(t, s2.d)
	for _, r := range results {
		require.ErrorIs(t, r.Err, denied)
		require.ErrorContains(t, r.Err, "send message batch to "+queueURL)
	}

	fake3 := &fakeSQS{}
	fake3.sendFn = func(call int, _ *sqs.SendMessageInput) (*sqs.SendMessageOutput, error) {
		if call < 3 {
			return nil, &smithy.GenericAPIError{Code: "InternalError", Fault: smithy.FaultServer}
		}
		return &sqs.SendMessageOutput{MessageId: aws.String("ok")}, nil
	}
	p3, s3 := setup(t, fake3)
	res, err := p3.Publish(context.Background(), producer.Message{Body: "x"})
	require.NoError(t, err)
	require.Equal(t, "ok", res.MessageID)
	require.Len(t, fake3.sends, 3)
	require.Len(t, s3.d, 2)
	key := attr(t, fake3.sends[0].MessageAttributes, message.AttrIdempotencyKey)
	require.Equal(t, key, attr(t, fake3.sends[2].MessageAttributes, message.AttrIdempotencyKey))
}

func TestCancelledContextStopsRetrying(t *testing.T) {
	t.Parallel()
	fake := &fakeSQS{}
	fake.sendFn = func(int, *sqs.SendMessageInput) (*sqs.SendMessageOutput, error) {
		return nil, &smithy.GenericAPIError{Code: "InternalError", Fault: smithy.FaultServer}
	}
	p, _ := setup(t, fake)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := p.Publish(ctx, producer.Message{Body: "x"})
	require.ErrorIs(t, err, context.Canceled)
	require.Len(t, fake.sends, 1)
}

func TestValidation(t *testing.T) {
	t.Parallel()
	fake := &fakeSQS{}
	p, err := producer.New(fake, queueURL, producer.WithSleep(func(context.Context, time.Duration) error { return nil }))
	require.NoError(t, err)
	many := map[string]string{}
	for i := range 8 {
		many[fmt.Sprintf("a%d", i)] = "v"
	}
	cases := map[string]producer.Message{
		"body is empty":          {Type: "t"},
		"type is required":       {Body: "b"},
		"SQS allows 10":          {Body: "b", Type: "t", Attributes: many},
		"is reserved":            {Body: "b", Type: "t", Attributes: map[string]string{message.AttrFailureClass: "x"}},
		"delay 901s: want 0–900": {Body: "b", Type: "t", DelaySeconds: 901},
	}
	for want, m := range cases {
		_, err := p.Publish(context.Background(), m)
		require.ErrorIs(t, err, producer.ErrInvalidMessage, want)
		require.ErrorContains(t, err, want)
	}
	require.Empty(t, fake.sends)

	_, err = producer.New(nil, "", producer.WithMaxMessageBytes(-1), producer.WithRetry(producer.RetryPolicy{MaxAttempts: -1}))
	require.ErrorContains(t, err, "SQS client is required")
	require.ErrorContains(t, err, "queue URL is required")
	require.ErrorContains(t, err, "max message bytes must be positive")
	require.ErrorContains(t, err, "MaxAttempts ≥ 1")
}

func TestFIFOGroupAndDeduplication(t *testing.T) {
	t.Parallel()
	fake := &fakeSQS{}
	p, err := producer.New(fake, queueURL+".fifo", producer.WithDefaultType("sms", "1"))
	require.NoError(t, err)
	_, err = p.Publish(context.Background(), producer.Message{Body: "b"})
	require.ErrorContains(t, err, "group id is required on a FIFO queue")

	long := strings.Repeat("k", 200)
	results, err := p.PublishBatch(context.Background(), []producer.Message{
		{Body: "a", GroupID: "g", IdempotencyKey: "key-a"},
		{Body: "b", GroupID: "g", DeduplicationID: "dedup-b"},
		{Body: "c", GroupID: "g", IdempotencyKey: long},
	})
	require.NoError(t, err)
	sent := fake.batches[0]
	require.Equal(t, "g", aws.ToString(sent[0].MessageGroupId))
	require.Equal(t, "key-a", aws.ToString(sent[0].MessageDeduplicationId))
	require.Equal(t, "dedup-b", aws.ToString(sent[1].MessageDeduplicationId))
	require.Len(t, aws.ToString(sent[2].MessageDeduplicationId), 64, "long keys are hashed to fit 128 characters")
	require.Equal(t, long, results[2].IdempotencyKey)
}

func TestNewIdempotencyKey(t *testing.T) {
	t.Parallel()
	a, b := producer.NewIdempotencyKey(), producer.NewIdempotencyKey()
	require.Regexp(t, uuidRE, a)
	require.NotEqual(t, a, b)
}

func TestErrorsAreMatchable(t *testing.T) {
	t.Parallel()
	be := &producer.BatchError{Failed: 2, Total: 3, Errs: []error{&producer.SizeError{Size: 5, Limit: 4}, errors.New("boom")}}
	require.ErrorIs(t, be, producer.ErrTooLarge)
	require.Equal(t, "2 of 3 messages not published: message is 5 bytes (body and attributes), over the limit of 4 bytes; boom", be.Error())
}

// With a tracer provider, Publish is one "SQS" send span, child of the
// caller's span; the message's AWSTraceHeader and traceparent name the send,
// and the send records the queue.
func TestPublishIsASendSpan(t *testing.T) {
	t.Parallel()
	tp, rec := tracingtest.NewProvider(t)
	fake := &fakeSQS{}
	p, err := producer.New(fake, queueURL, producer.WithDefaultType(message.TypeAudit, ""), producer.WithTracerProvider(tp))
	require.NoError(t, err)
	ctx, seg := tracing.NewTracer(tp).Start(context.Background(), "svc", tracing.WithKind(tracing.KindServer))
	_, err = p.Publish(ctx, producer.Message{Body: "x"})
	require.NoError(t, err)
	docs := rec.Documents(t)
	require.Len(t, docs, 1)
	send := docs[0]
	require.Equal(t, "SQS", send.Name)
	require.Equal(t, "subsegment", send.Type)
	require.Equal(t, "aws", send.Namespace)
	require.Equal(t, seg.Context().SpanID, send.ParentID)
	require.Equal(t, "SendMessage", send.AWS["operation"])
	require.Equal(t, queueURL, send.AWS["queue_url"])
	in := fake.sends[0]
	require.Equal(t, "Root="+seg.Context().TraceID+";Parent="+send.ID+";Sampled=1",
		aws.ToString(in.MessageSystemAttributes[message.SystemAttrTraceHeader].StringValue))
	require.True(t, strings.HasSuffix(attr(t, in.MessageAttributes, tracing.W3CTraceParentAttr), "-"+send.ID+"-01"))
}

// A caller with 7 attributes of its own keeps them: no traceparent then.
func TestPublishWithSevenAttributesHasNoTraceParent(t *testing.T) {
	t.Parallel()
	fake := &fakeSQS{}
	p, _ := setup(t, fake)
	ctx, _ := traced(t, "svc")
	attrs := map[string]string{}
	for i := range 7 {
		attrs[fmt.Sprintf("a%d", i)] = "v"
	}
	_, err := p.Publish(ctx, producer.Message{Body: "x", Attributes: attrs})
	require.NoError(t, err)
	require.Len(t, fake.sends[0].MessageAttributes, 10)
	require.NotContains(t, fake.sends[0].MessageAttributes, tracing.W3CTraceParentAttr)
	require.NotEmpty(t, fake.sends[0].MessageSystemAttributes[message.SystemAttrTraceHeader].StringValue)
}
