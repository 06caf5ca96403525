package batch_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/stretchr/testify/require"

	"github.com/offload/offload/pkg/batch"
	"github.com/offload/offload/pkg/batch/batchtest"
	"github.com/offload/offload/pkg/logging"
	"github.com/offload/offload/pkg/message"
)

// The backoff never overflows: monotone non-decreasing and capped for every
// receive count, including ones far past any redrive policy.
func TestExponentialBackoffNeverOverflows(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ base, limit time.Duration }{
		{2 * time.Second, 5 * time.Minute}, {5 * time.Second, 10 * time.Minute},
		{5 * time.Second, 15 * time.Hour}, {time.Nanosecond, 12 * time.Hour}, {time.Hour, 30 * time.Minute},
	} {
		b := batch.ExponentialBackoff(c.base, c.limit)
		capped := min(c.limit, 12*time.Hour)
		prev := time.Duration(0)
		counts := make([]int, 0, 10002)
		for n := 1; n <= 10000; n++ {
			counts = append(counts, n)
		}
		counts = append(counts, math.MaxInt32, math.MaxInt)
		for _, n := range counts {
			d := b(n)
			require.GreaterOrEqual(t, d, prev, "base %s limit %s: receive %d is below receive before", c.base, c.limit, n)
			require.LessOrEqual(t, d, capped, "base %s limit %s receive %d", c.base, c.limit, n)
			require.Positive(t, d, "base %s limit %s receive %d", c.base, c.limit, n)
			prev = d
		}
		require.Equal(t, capped, b(math.MaxInt32))
	}
}

func TestRetryBudget(t *testing.T) {
	t.Parallel()
	// 5+10+20+40+80+160+320 s, then 5 x 600 s.
	require.Equal(t, 3635*time.Second, batch.RetryBudget(batch.ExponentialBackoff(5*time.Second, 10*time.Minute), 12))
	require.Equal(t, 62*time.Second, batch.RetryBudget(batch.ExponentialBackoff(2*time.Second, 5*time.Minute), 5), "the old audit budget")
	require.Equal(t, time.Duration(0), batch.RetryBudget(nil, 5))
}

// A record skipped for the deadline was never attempted: it goes back at
// once (visibility 0) instead of waiting out its visibility timeout.
func TestDeadlineSkippedRecordsReturnAtOnce(t *testing.T) {
	t.Parallel()
	client := &batchtest.SQS{}
	p, logs := newProcessor(t, func(context.Context, events.SQSMessage) error { return nil },
		batch.WithDeadlineMargin(time.Minute), batch.WithBackoff(client, batch.ExponentialBackoff(5*time.Second, time.Minute)))
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(10*time.Second))
	defer cancel()
	resp, err := p.Process(ctx, events.SQSEvent{Records: records(2)})
	require.NoError(t, err)
	require.Equal(t, []string{"msg-1", "msg-2"}, failureIDs(resp))
	require.Len(t, client.VisibilityChanges(), 2)
	for _, v := range client.VisibilityChanges() {
		require.Equal(t, int32(0), v.VisibilityTimeout)
	}
	require.Equal(t, batch.OutcomeSkipped, byMessage(t, logs)["msg-1"][logging.FieldOutcome])
}

// sqsSize is SQS's message size: body plus, per attribute, name, data type
// and value.
func sqsSize(in *sqs.SendMessageInput) int {
	n := len(aws.ToString(in.MessageBody))
	for name, a := range in.MessageAttributes {
		n += len(name) + len(aws.ToString(a.DataType)) + len(aws.ToString(a.StringValue)) + len(a.BinaryValue)
	}
	return n
}

func TestDeadLetterFitsTheQueueLimit(t *testing.T) {
	t.Parallel()
	const limit = 256 * 1024
	for _, c := range []struct {
		name      string
		bodyBytes int
		keepAll   []string // attributes that must survive
	}{
		{"small body keeps everything", 100, []string{message.AttrFailureReason, message.AttrIdempotencyKey, "extra"}},
		{"body 700 bytes under the limit", limit - 700, []string{message.AttrFailureReason, message.AttrFailureClass, message.AttrOriginalMessageID, "extra"}},
		{"body 300 bytes under the limit", limit - 300, []string{message.AttrFailureClass, message.AttrOriginalMessageID}},
		{"body at the limit", limit, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dlq := &batchtest.SQS{}
			reason := strings.Repeat("é", 2000) // multi-byte, longer than any room
			h := func(context.Context, events.SQSMessage) error {
				return batch.Permanent(message.ClassValidation, reason, nil)
			}
			p, logs := newProcessor(t, h, batch.WithDeadLetter(dlq, "https://sqs.local/123456789012/audit-dlq"))
			recs := records(1)
			recs[0].Body = strings.Repeat("b", c.bodyBytes)
			extra := strings.Repeat("x", 200)
			recs[0].MessageAttributes["extra"] = events.SQSMessageAttribute{StringValue: &extra, DataType: "String"}
			resp, err := p.Process(context.Background(), events.SQSEvent{Records: recs})
			require.NoError(t, err)
			require.Empty(t, resp.BatchItemFailures)
			require.Len(t, dlq.DeadLetters(), 1, "never dropped for size")
			in := dlq.DeadLetters()[0]
			require.Equal(t, recs[0].Body, aws.ToString(in.MessageBody), "the body is intact")
			require.LessOrEqual(t, sqsSize(in), limit)
			for _, name := range c.keepAll {
				require.Contains(t, in.MessageAttributes, name)
			}
			if r, ok := in.MessageAttributes[message.AttrFailureReason]; ok {
				require.True(t, strings.HasPrefix(reason, aws.ToString(r.StringValue)), "a prefix of the reason, cut on a character")
			}
			switch {
			case c.bodyBytes == limit-700:
				require.Len(t, in.MessageAttributes, 10, "only the reason was trimmed")
				require.Equal(t, "reason", byMessage(t, logs)["msg-1"]["trimmed_dead_letter"])
			case c.bodyBytes > limit-700:
				require.Less(t, len(in.MessageAttributes), 10, "attributes were reduced")
				require.Contains(t, byMessage(t, logs)["msg-1"], "trimmed_dead_letter")
			}
			if c.bodyBytes == limit {
				require.Empty(t, in.MessageAttributes, "no room for any attribute: the reason is in the log only")
			}
		})
	}
}

func TestDeadLetterMaxBytesOption(t *testing.T) {
	t.Parallel()
	dlq := &batchtest.SQS{}
	h := func(context.Context, events.SQSMessage) error {
		return batch.Permanent(message.ClassValidation, strings.Repeat("r", 500), nil)
	}
	p, _ := newProcessor(t, h, batch.WithDeadLetter(dlq, "https://sqs.local/123456789012/audit-dlq"), batch.WithDeadLetterMaxBytes(1024))
	recs := records(1)
	recs[0].Body = strings.Repeat("b", 700)
	_, err := p.Process(context.Background(), events.SQSEvent{Records: recs})
	require.NoError(t, err)
	require.LessOrEqual(t, sqsSize(dlq.DeadLetters()[0]), 1024)
	require.Contains(t, dlq.DeadLetters()[0].MessageAttributes, message.AttrFailureReason, "the reason is trimmed, not removed, while it can be")
	_, err = batch.New(h, batch.WithDeadLetterMaxBytes(0))
	require.ErrorContains(t, err, "dead-letter max bytes")
}

func withAttrs(rec events.SQSMessage, typ, ver *string) events.SQSMessage {
	rec.MessageAttributes = map[string]events.SQSMessageAttribute{}
	if typ != nil {
		rec.MessageAttributes[message.AttrType] = events.SQSMessageAttribute{StringValue: typ, DataType: "String"}
	}
	if ver != nil {
		rec.MessageAttributes[message.AttrVersion] = events.SQSMessageAttribute{StringValue: ver, DataType: "String"}
	}
	return rec
}

func TestAcceptedVersions(t *testing.T) {
	t.Parallel()
	dlq := &batchtest.SQS{}
	var handled []string
	h := func(_ context.Context, m events.SQSMessage) error { handled = append(handled, m.MessageId); return nil }
	p, logs := newProcessor(t, h, batch.WithDeadLetter(dlq, "https://sqs.local/123456789012/audit-dlq"), batch.Accept(message.TypeAudit, "1"))
	s := func(v string) *string { return &v }
	base := records(6)
	recs := []events.SQSMessage{
		withAttrs(base[0], s("audit"), s("1")),
		withAttrs(base[1], nil, nil), // the article's .NET producer, the aws CLI
		withAttrs(base[2], s("audit"), s("2")),
		withAttrs(base[3], s("sms"), s("1")),
		withAttrs(base[4], nil, s("1")),
		withAttrs(base[5], s("audit"), nil),
	}
	resp, err := p.Process(context.Background(), events.SQSEvent{Records: recs})
	require.NoError(t, err)
	require.Empty(t, resp.BatchItemFailures)
	require.Equal(t, []string{"msg-1", "msg-2", "msg-5", "msg-6"}, handled, "no attributes is the current version")
	require.Len(t, dlq.DeadLetters(), 2)
	reasons := map[string]string{}
	for _, in := range dlq.DeadLetters() {
		require.Equal(t, message.ClassUnsupportedVersion, aws.ToString(in.MessageAttributes[message.AttrFailureClass].StringValue))
		reasons[aws.ToString(in.MessageAttributes[message.AttrOriginalMessageID].StringValue)] = aws.ToString(in.MessageAttributes[message.AttrFailureReason].StringValue)
	}
	require.Contains(t, reasons["msg-3"], `type "audit" version "2"`)
	require.Contains(t, reasons["msg-4"], `type "sms" version "1"`)
	require.Contains(t, reasons["msg-3"], "audit 1")
	require.Equal(t, batch.OutcomeDeadLettered, byMessage(t, logs)["msg-3"][logging.FieldOutcome])

	_, err = batch.New(h, batch.Accept("", "1"), batch.Accept("audit"))
	require.ErrorContains(t, err, "accept: type is required")
	require.ErrorContains(t, err, "accept audit: at least one version")
}

// SQS refuses a visibility timeout beyond 12 hours from the receive; the
// change is made up to 15 minutes (Lambda's longest run) after it, so the
// processor never asks for more than 11 h 45 min.
func TestVisibilityStaysWithinSQSMaximum(t *testing.T) {
	t.Parallel()
	client := &batchtest.SQS{}
	h := func(context.Context, events.SQSMessage) error {
		return batch.RetryAfter(24*time.Hour, errors.New("come back tomorrow"))
	}
	p, _ := newProcessor(t, h, batch.WithBackoff(client, batch.ExponentialBackoff(5*time.Second, 12*time.Hour)))
	recs := records(2)
	_, err := p.Process(context.Background(), events.SQSEvent{Records: recs[:1]})
	require.NoError(t, err)
	p2, _ := newProcessor(t, func(context.Context, events.SQSMessage) error { return errors.New("down") },
		batch.WithBackoff(client, batch.ExponentialBackoff(5*time.Second, 12*time.Hour)))
	recs[1].Attributes["ApproximateReceiveCount"] = "100"
	_, err = p2.Process(context.Background(), events.SQSEvent{Records: recs[1:]})
	require.NoError(t, err)
	require.Len(t, client.VisibilityChanges(), 2)
	for _, v := range client.VisibilityChanges() {
		require.Equal(t, int32(12*3600-15*60), v.VisibilityTimeout)
	}
}

// BenchmarkDeadLetterAtTheLimit measures dead-lettering a record whose body
// forces trimming (256 KiB minus 300 bytes), with Accept checking versions.
func BenchmarkDeadLetterAtTheLimit(b *testing.B) {
	dlq := &batchtest.SQS{}
	p, err := batch.New(func(context.Context, events.SQSMessage) error {
		return batch.Permanent(message.ClassValidation, strings.Repeat("r", 1024), nil)
	}, batch.WithDeadLetter(dlq, "https://sqs.local/123456789012/audit-dlq"), batch.Accept(message.TypeAudit, "1"),
		batch.WithLogger(logging.New(logging.WithOutput(discardWriter{}))))
	if err != nil {
		b.Fatal(err)
	}
	recs := records(1)
	recs[0].Body = strings.Repeat("b", 256*1024-300)
	ev := events.SQSEvent{Records: recs}
	b.ReportAllocs()
	for b.Loop() {
		if resp, _ := p.Process(context.Background(), ev); len(resp.BatchItemFailures) != 0 {
			b.Fatal("not dead-lettered")
		}
		dlq.Reset()
	}
}

type discardWriter struct{}

func (discardWriter) Write(p []byte) (int, error) { return len(p), nil }
