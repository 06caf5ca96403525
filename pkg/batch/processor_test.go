package batch_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/stretchr/testify/require"

	"github.com/offload/offload/pkg/batch"
	"github.com/offload/offload/pkg/batch/batchtest"
	"github.com/offload/offload/pkg/logging"
	"github.com/offload/offload/pkg/logging/loggingtest"
	"github.com/offload/offload/pkg/message"
	"github.com/offload/offload/pkg/tracing/tracingtest"
)

var fixedNow = time.Date(2026, 11, 26, 23, 12, 43, 0, time.UTC)

func newProcessor(t *testing.T, h batch.Handler, opts ...batch.Option) (*batch.Processor, *loggingtest.Buffer) {
	t.Helper()
	logs := &loggingtest.Buffer{}
	tr, _ := tracingtest.New(t)
	p, err := batch.New(h, append([]batch.Option{batch.WithLogger(newLogger(logs)), batch.WithClock(func() time.Time { return fixedNow }), batch.WithTracer(tr)}, opts...)...)
	require.NoError(t, err)
	return p, logs
}

func TestTransientFailuresReturnExactlyThoseIDs(t *testing.T) {
	t.Parallel()
	for _, conc := range []int{1, 4} {
		t.Run(fmt.Sprintf("concurrency=%d", conc), func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int32
			h := func(_ context.Context, m events.SQSMessage) error {
				calls.Add(1)
				if m.MessageId == "msg-3" || m.MessageId == "msg-7" {
					return errors.New("downstream timeout")
				}
				return nil
			}
			p, logs := newProcessor(t, h, batch.WithConcurrency(conc))
			resp, err := p.Process(context.Background(), events.SQSEvent{Records: records(10)})
			require.NoError(t, err)
			require.Equal(t, []string{"msg-3", "msg-7"}, failureIDs(resp))
			require.EqualValues(t, 10, calls.Load())

			lines := byMessage(t, logs)
			require.Len(t, lines, 10)
			require.Equal(t, batch.OutcomeRetry, lines["msg-3"][logging.FieldOutcome])
			require.Equal(t, "transient", lines["msg-3"][logging.FieldErrorClass])
			require.Equal(t, batch.OutcomeSuccess, lines["msg-1"][logging.FieldOutcome])
			require.EqualValues(t, 1, lines["msg-1"][logging.FieldReceiveCount])
			require.Contains(t, lines["msg-1"], logging.FieldDurationMS)
			require.NotContains(t, logs.String(), "secret body", "nothing of the body is logged")
		})
	}
}

// failOne is a handler that fails the record id with err and succeeds with
// every other.
func failOne(id string, err error) batch.Handler {
	return func(_ context.Context, m events.SQSMessage) error {
		if m.MessageId == id {
			return err
		}
		return nil
	}
}

func TestPermanentFailureIsDeadLetteredAndAcknowledged(t *testing.T) {
	t.Parallel()
	dlq := &batchtest.SQS{}
	h := failOne("msg-2", batch.Permanent(message.ClassValidation, "auditText is empty", nil))
	p, logs := newProcessor(t, h, batch.WithDeadLetter(dlq, "https://sqs.local/123456789012/audit-dlq"))
	recs := records(3)
	recs[1].Attributes["ApproximateReceiveCount"] = "2"
	resp, err := p.Process(context.Background(), events.SQSEvent{Records: recs})
	require.NoError(t, err)
	require.Empty(t, resp.BatchItemFailures, "a dead-lettered record is acknowledged")

	require.Len(t, dlq.DeadLetters(), 1)
	in := dlq.DeadLetters()[0]
	require.Equal(t, "https://sqs.local/123456789012/audit-dlq", aws.ToString(in.QueueUrl))
	require.Equal(t, recs[1].Body, aws.ToString(in.MessageBody), "the original body")
	want := map[string]string{
		message.AttrFailureReason:     "auditText is empty",
		message.AttrFailureClass:      message.ClassValidation,
		message.AttrSourceQueue:       sourceARN,
		message.AttrOriginalMessageID: "msg-2",
		message.AttrReceiveCount:      "2",
		message.AttrFailedAt:          "2026-11-26T23:12:43Z",
		message.AttrIdempotencyKey:    "key-2",
		message.AttrType:              message.TypeAudit,
		message.AttrVersion:           "1",
	}
	got := map[string]string{}
	for k, v := range in.MessageAttributes {
		got[k] = aws.ToString(v.StringValue)
		require.Equal(t, "String", aws.ToString(v.DataType))
	}
	require.Equal(t, want, got)
	require.Equal(t, recs[1].Attributes["AWSTraceHeader"], aws.ToString(in.MessageSystemAttributes[message.SystemAttrTraceHeader].StringValue))

	line := byMessage(t, logs)["msg-2"]
	require.Equal(t, batch.OutcomeDeadLettered, line[logging.FieldOutcome])
	require.Equal(t, message.ClassValidation, line[logging.FieldErrorClass])
	require.Equal(t, "auditText is empty", line["reason"])
}

func TestDeadLetterSendFailureBecomesItemFailure(t *testing.T) {
	t.Parallel()
	dlq := failingSQS(errors.New("AccessDenied"))
	h := func(context.Context, events.SQSMessage) error {
		return batch.Permanent(message.ClassDecode, "invalid JSON at byte 1", nil)
	}
	p, logs := newProcessor(t, h, batch.WithDeadLetter(dlq, "https://sqs.local/123456789012/audit-dlq"))
	resp, err := p.Process(context.Background(), events.SQSEvent{Records: records(2)})
	require.NoError(t, err, "never an error together with failures")
	require.Equal(t, []string{"msg-1", "msg-2"}, failureIDs(resp), "never lost: redelivered instead")
	line := byMessage(t, logs)["msg-1"]
	require.Equal(t, batch.OutcomeFailed, line[logging.FieldOutcome])
	require.Contains(t, line["dead_letter_error"], "AccessDenied")
}

func TestPermanentWithoutDeadLetterQueueIsItemFailure(t *testing.T) {
	t.Parallel()
	h := func(context.Context, events.SQSMessage) error {
		return batch.Permanent(message.ClassDecode, "bad", nil)
	}
	p, _ := newProcessor(t, h)
	resp, err := p.Process(context.Background(), events.SQSEvent{Records: records(1)})
	require.NoError(t, err)
	require.Equal(t, []string{"msg-1"}, failureIDs(resp))
}

func TestPanickingRecordFailsAlone(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	h := func(_ context.Context, m events.SQSMessage) error {
		calls.Add(1)
		if m.MessageId == "msg-4" {
			var nilMap map[string]int
			//lint:ignore SA5000 a real runtime panic is the point
			nilMap["boom"]++
		}
		return nil
	}
	for _, conc := range []int{1, 3} {
		p, logs := newProcessor(t, h, batch.WithConcurrency(conc))
		resp, err := p.Process(context.Background(), events.SQSEvent{Records: records(6)})
		require.NoError(t, err)
		require.Equal(t, []string{"msg-4"}, failureIDs(resp))
		line := byMessage(t, logs)["msg-4"]
		require.Equal(t, batch.OutcomePanic, line[logging.FieldOutcome])
		require.Equal(t, "error", line["level"])
		require.Contains(t, line["stack"], "processor_test.go")
		require.Contains(t, line[logging.FieldError], "assignment to entry in nil map")
	}
	require.EqualValues(t, 12, calls.Load())
}

func fifoRecords() []events.SQSMessage {
	recs := records(6)
	groups := []string{"A", "B", "A", "A", "B", "C"}
	for i := range recs {
		recs[i].EventSourceARN = sourceARN + ".fifo"
		recs[i].Attributes["MessageGroupId"] = groups[i]
	}
	return recs
}

func TestFIFOGroupStopsAfterFailure(t *testing.T) {
	t.Parallel()
	for _, conc := range []int{1, 3} {
		var mu sync.Mutex
		seen := map[string]bool{}
		order := []string{}
		h := func(_ context.Context, m events.SQSMessage) error {
			mu.Lock()
			defer mu.Unlock()
			seen[m.MessageId] = true
			order = append(order, m.MessageId)
			if m.MessageId == "msg-3" { // group A's second record
				return errors.New("throttled")
			}
			return nil
		}
		p, logs := newProcessor(t, h, batch.WithConcurrency(conc))
		resp, err := p.Process(context.Background(), events.SQSEvent{Records: fifoRecords()})
		require.NoError(t, err)
		require.Equal(t, []string{"msg-3", "msg-4"}, failureIDs(resp), "A's failed record and the one after it")
		require.False(t, seen["msg-4"], "msg-4 follows the failure in group A: not processed")
		require.True(t, seen["msg-2"] && seen["msg-5"] && seen["msg-6"], "other groups go on")
		require.Equal(t, batch.OutcomeSkipped, byMessage(t, logs)["msg-4"][logging.FieldOutcome])
		mu.Lock()
		require.Less(t, indexOf(order, "msg-1"), indexOf(order, "msg-3"), "in order within a group")
		require.Less(t, indexOf(order, "msg-2"), indexOf(order, "msg-5"))
		mu.Unlock()
	}
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

func TestFIFODeadLetteredRecordDoesNotStopGroup(t *testing.T) {
	t.Parallel()
	dlq := &batchtest.SQS{}
	h := failOne("msg-1", batch.Permanent(message.ClassDecode, "invalid JSON at byte 0", nil))
	p, _ := newProcessor(t, h, batch.WithDeadLetter(dlq, "https://sqs.local/123456789012/audit-dlq.fifo"))
	resp, err := p.Process(context.Background(), events.SQSEvent{Records: fifoRecords()})
	require.NoError(t, err)
	require.Empty(t, resp.BatchItemFailures)
	require.Len(t, dlq.DeadLetters(), 1)
	require.Equal(t, "A", aws.ToString(dlq.DeadLetters()[0].MessageGroupId))
	require.Equal(t, "msg-1", aws.ToString(dlq.DeadLetters()[0].MessageDeduplicationId))
}

func TestRecordDeadlineIsLambdaDeadlineMinusMargin(t *testing.T) {
	t.Parallel()
	deadline := time.Now().Add(10 * time.Second)
	var got time.Time
	h := func(ctx context.Context, _ events.SQSMessage) error {
		got, _ = ctx.Deadline()
		logging.FromContext(ctx).Info("handler log line")
		return nil
	}
	p, logs := newProcessor(t, h, batch.WithDeadlineMargin(2*time.Second))
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	_, err := p.Process(ctx, events.SQSEvent{Records: records(1)})
	require.NoError(t, err)
	require.Equal(t, deadline.Add(-2*time.Second), got)
	require.Equal(t, "msg-1", logs.Lines(t)[0][logging.FieldMessageID], "the handler's logger carries the record fields")

	// Less time left than the margin: records are not started.
	var called atomic.Bool
	p2, logs2 := newProcessor(t, func(context.Context, events.SQSMessage) error { called.Store(true); return nil },
		batch.WithDeadlineMargin(time.Minute))
	resp, err := p2.Process(ctx, events.SQSEvent{Records: records(2)})
	require.NoError(t, err)
	require.False(t, called.Load())
	require.Equal(t, []string{"msg-1", "msg-2"}, failureIDs(resp))
	require.Equal(t, "deadline", byMessage(t, logs2)["msg-1"][logging.FieldErrorClass])
}

func TestBackoffChangesVisibility(t *testing.T) {
	t.Parallel()
	client := &batchtest.SQS{}
	h := func(_ context.Context, m events.SQSMessage) error {
		if m.MessageId == "msg-2" {
			return batch.RetryAfter(90*time.Second, errors.New("provider asked us to wait"))
		}
		return errors.New("timeout")
	}
	p, logs := newProcessor(t, h, batch.WithBackoff(client, batch.ExponentialBackoff(10*time.Second, time.Hour)))
	recs := records(3)
	recs[0].Attributes["ApproximateReceiveCount"] = "3"
	resp, err := p.Process(context.Background(), events.SQSEvent{Records: recs})
	require.NoError(t, err)
	require.Len(t, resp.BatchItemFailures, 3)
	require.Len(t, client.VisibilityChanges(), 3)
	require.Equal(t, 1, client.QueueURLCalls(), "the queue URL is resolved once")
	byHandle := map[string]int32{}
	for _, v := range client.VisibilityChanges() {
		require.Equal(t, "https://sqs.local/123456789012/audit", aws.ToString(v.QueueUrl))
		byHandle[aws.ToString(v.ReceiptHandle)] = v.VisibilityTimeout
	}
	require.Equal(t, map[string]int32{"rh-1": 40, "rh-2": 90, "rh-3": 10}, byHandle)
	require.EqualValues(t, 40, byMessage(t, logs)["msg-1"]["retry_after_s"])
}

func TestExponentialBackoff(t *testing.T) {
	t.Parallel()
	b := batch.ExponentialBackoff(5*time.Second, 15*time.Hour)
	require.Equal(t, 5*time.Second, b(0))
	require.Equal(t, 5*time.Second, b(1))
	require.Equal(t, 10*time.Second, b(2))
	require.Equal(t, 40*time.Second, b(4))
	require.Equal(t, 12*time.Hour, b(30), "capped at SQS's 12 hours")
	require.Equal(t, 12*time.Hour, b(1000))
}

func TestDeadLetterKeepsWithinTenAttributes(t *testing.T) {
	t.Parallel()
	dlq := &batchtest.SQS{}
	h := func(context.Context, events.SQSMessage) error { return batch.Permanent("", "", errors.New("x")) }
	p, logs := newProcessor(t, h, batch.WithDeadLetter(dlq, "https://sqs.local/123456789012/audit-dlq"))
	recs := records(1)
	for _, name := range []string{"zeta", "alpha", "mid", "beta", "gamma"} {
		v := name + "-value"
		recs[0].MessageAttributes[name] = events.SQSMessageAttribute{StringValue: &v, DataType: "String"}
	}
	recs[0].MessageAttributes["blob"] = events.SQSMessageAttribute{BinaryValue: []byte{1, 2}, DataType: "Binary"}
	// A record redriven once already carries old failure attributes: they are replaced.
	old := "old reason"
	recs[0].MessageAttributes[message.AttrFailureReason] = events.SQSMessageAttribute{StringValue: &old, DataType: "String"}

	resp, err := p.Process(context.Background(), events.SQSEvent{Records: recs})
	require.NoError(t, err)
	require.Empty(t, resp.BatchItemFailures)
	attrs := dlq.DeadLetters()[0].MessageAttributes
	require.Len(t, attrs, message.MaxAttributes)
	require.Equal(t, "(no reason given)", aws.ToString(attrs[message.AttrFailureReason].StringValue))
	require.Equal(t, "unclassified", aws.ToString(attrs[message.AttrFailureClass].StringValue))
	require.Contains(t, attrs, message.AttrIdempotencyKey)
	require.Contains(t, attrs, message.AttrType)
	require.Contains(t, attrs, message.AttrVersion)
	require.Contains(t, attrs, "alpha", "then by name")
	require.NotContains(t, attrs, "zeta")
	require.EqualValues(t, 5, byMessage(t, logs)["msg-1"]["dropped_attributes"])
}

func TestNewReportsEveryProblem(t *testing.T) {
	t.Parallel()
	_, err := batch.New(nil, batch.WithConcurrency(0), batch.WithDeadLetter(&batchtest.SQS{}, ""), batch.WithBackoff(&batchtest.SQS{}, nil))
	require.ErrorContains(t, err, "handler is required")
	require.ErrorContains(t, err, "concurrency must be at least 1")
	require.ErrorContains(t, err, "dead-letter queue URL is required")
	require.ErrorContains(t, err, "backoff needs both")
}

func TestEmptyBatch(t *testing.T) {
	t.Parallel()
	p, _ := newProcessor(t, func(context.Context, events.SQSMessage) error { return nil })
	resp, err := p.Process(context.Background(), events.SQSEvent{})
	require.NoError(t, err)
	require.Empty(t, resp.BatchItemFailures)
}

// A dead letter carries when its record was first enqueued: the record's own
// offload.first-enqueued-at (a redriven record), else its SentTimestamp — a
// redrive gives the message a new SentTimestamp, so consumers whose records
// expire (sms-sender) can still tell how old the request is.
func TestDeadLetterCarriesTheFirstEnqueueTime(t *testing.T) {
	t.Parallel()
	dlq := &batchtest.SQS{}
	h := func(context.Context, events.SQSMessage) error {
		return batch.Permanent(message.ClassValidation, "bad", nil)
	}
	p, _ := newProcessor(t, h, batch.WithDeadLetter(dlq, "https://sqs.local/123456789012/audit-dlq"), batch.WithFirstEnqueueTime())
	recs := records(2)
	recs[0].Attributes["SentTimestamp"] = "1764201600123" // 2025-11-27T00:00:00.123Z
	recs[1].Attributes["SentTimestamp"] = "1764201600123"
	recs[1].MessageAttributes[message.AttrFirstEnqueuedAt] = events.SQSMessageAttribute{DataType: "String", StringValue: aws.String("2025-11-01T08:00:00.000Z")}
	_, err := p.Process(context.Background(), events.SQSEvent{Records: recs})
	require.NoError(t, err)
	require.Len(t, dlq.DeadLetters(), 2)
	got := map[string]string{}
	for _, in := range dlq.DeadLetters() {
		got[aws.ToString(in.MessageAttributes[message.AttrOriginalMessageID].StringValue)] = aws.ToString(in.MessageAttributes[message.AttrFirstEnqueuedAt].StringValue)
	}
	require.Equal(t, map[string]string{"msg-1": "2025-11-27T00:00:00.123Z", "msg-2": "2025-11-01T08:00:00.000Z"}, got)

	at, ok := batch.FirstEnqueuedAt(recs[1])
	require.True(t, ok)
	require.True(t, at.Equal(time.Date(2025, 11, 1, 8, 0, 0, 0, time.UTC)), "the attribute wins over SentTimestamp")
	at, ok = batch.FirstEnqueuedAt(recs[0])
	require.True(t, ok)
	require.Equal(t, int64(1764201600123), at.UnixMilli())
	_, ok = batch.FirstEnqueuedAt(events.SQSMessage{})
	require.False(t, ok)

	plain := &batchtest.SQS{}
	p2, _ := newProcessor(t, h, batch.WithDeadLetter(plain, "https://sqs.local/123456789012/audit-dlq"))
	_, err = p2.Process(context.Background(), events.SQSEvent{Records: recs[:1]})
	require.NoError(t, err)
	require.Len(t, plain.DeadLetters(), 1)
	require.NotContains(t, plain.DeadLetters()[0].MessageAttributes, message.AttrFirstEnqueuedAt, "only with WithFirstEnqueueTime: it costs a copied attribute")
}
