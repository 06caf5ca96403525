package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/stretchr/testify/require"

	"github.com/offload/offload/internal/function"
	"github.com/offload/offload/pkg/audit"
	"github.com/offload/offload/pkg/batch"
	"github.com/offload/offload/pkg/batch/batchtest"
	"github.com/offload/offload/pkg/logging"
	"github.com/offload/offload/pkg/message"
)

// memStore is an in-memory audit table with the same outcomes as audit.Store.
type memStore struct {
	mu    sync.Mutex
	items map[string]audit.Record
	fail  map[string]error // by key
}

func (s *memStore) Put(_ context.Context, r audit.Record) (audit.Outcome, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fail[r.Key]; err != nil {
		return 0, err
	}
	id := r.Key + "|" + audit.FormatTime(r.Message.AuditTime)
	if old, ok := s.items[id]; ok {
		if old.ContentHash() == r.ContentHash() {
			return audit.Duplicate, nil
		}
		return audit.Conflict, nil
	}
	s.items[id] = r
	return audit.Created, nil
}

type fixture struct {
	store *memStore
	sqs   *batchtest.SQS
	count *batchtest.Counter
	proc  *batch.Processor
}

func setup(t testing.TB) fixture {
	t.Helper()
	f := fixture{store: &memStore{items: map[string]audit.Record{}, fail: map[string]error{}},
		sqs: &batchtest.SQS{}, count: &batchtest.Counter{}}
	h := &handler{store: f.store, metrics: f.count, limits: audit.Limits{Now: func() time.Time { return time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC) }}}
	proc, err := batch.New(h.handle, batch.WithConcurrency(10), batch.WithDeadLetter(f.sqs, "https://sqs/123456789012/audit-dlq"),
		batch.WithBackoff(f.sqs, batch.ExponentialBackoff(2*time.Second, time.Minute)), batch.WithLogger(logging.New(logging.WithOutput(io.Discard))))
	require.NoError(t, err)
	f.proc = proc
	return f
}

func record(id, body string) events.SQSMessage {
	return events.SQSMessage{MessageId: id, ReceiptHandle: "rh-" + id, Body: body, EventSource: "aws:sqs",
		EventSourceARN: "arn:aws:sqs:us-east-1:123456789012:audit", Attributes: map[string]string{"ApproximateReceiveCount": "1"}}
}

func TestCapturedEventStoresBothRecordsWithTheirKeys(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("testdata/sqs-event.json")
	require.NoError(t, err)
	var ev events.SQSEvent
	require.NoError(t, json.Unmarshal(raw, &ev))
	f := setup(t)
	resp, err := f.proc.Process(context.Background(), ev)
	require.NoError(t, err)
	require.Empty(t, resp.BatchItemFailures)
	require.Len(t, f.store.items, 2)
	first := f.store.items["7f9c2ba4-e88f-4c1a-9c1e-3b1d0c6e2a11|2026-11-26T23:12:43.1234567Z"]
	require.Equal(t, keyFromBody, first.KeySource)
	require.Equal(t, "059f36b4-87a3-44ab-83d2-661975830a7d", first.SQSMessageID)
	second := f.store.items["order-1001-shipped|2026-11-26T23:12:43.1200000Z"]
	require.Equal(t, keyFromAttribute, second.KeySource)
	require.Equal(t, "Order 1001 shipped", second.Message.AuditText)
}

func TestBatchOutcomes(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.store.fail["throttled"] = &types.ProvisionedThroughputExceededException{Message: aws.String("slow down")}
	ok := `{"messageId":"%s","auditText":"%s","auditTime":"2026-11-26T23:12:43Z"}`
	ev := events.SQSEvent{Records: []events.SQSMessage{
		record("s1", fmt.Sprintf(ok, "a", "signed in")),
		record("s2", fmt.Sprintf(ok, "a", "signed in")),  // producer retry: duplicate
		record("s3", fmt.Sprintf(ok, "a", "signed out")), // same key, other content: conflict
		record("s4", `{"auditText":`),                    // malformed
		record("s5", `{"auditText":"","auditTime":"2026-11-26T23:12:43Z"}`),
		record("s6", fmt.Sprintf(ok, "throttled", "x")),
		record("s7", `{"auditText":"no id anywhere","auditTime":"2026-11-26T23:12:43Z"}`),
	}}
	// s1 and s2 share a key: run them in order so the duplicate is the second.
	resp, err := f.proc.Process(context.Background(), events.SQSEvent{Records: ev.Records[:1]})
	require.NoError(t, err)
	require.Empty(t, resp.BatchItemFailures)
	resp, err = f.proc.Process(context.Background(), events.SQSEvent{Records: ev.Records[1:]})
	require.NoError(t, err)

	require.Equal(t, []events.SQSBatchItemFailure{{ItemIdentifier: "s6"}}, resp.BatchItemFailures, "only the throttled record is retried")
	require.Equal(t, int32(2), f.sqs.Visibility("rh-s6"), "retried with backoff")
	require.Len(t, f.store.items, 2, "a (first content) and s7")
	require.Equal(t, "signed in", f.store.items["a|2026-11-26T23:12:43.0000000Z"].Message.AuditText)
	require.Equal(t, keyFromSQS, f.store.items["s7|2026-11-26T23:12:43.0000000Z"].KeySource)
	require.Equal(t, 1, f.count.Get("AuditDuplicate"))
	require.Equal(t, 1, f.count.Get("AuditConflict"))
	require.Equal(t, 2, f.count.Get("AuditStored"))

	dead := map[string]*sqs.SendMessageInput{}
	for _, in := range f.sqs.DeadLetters() {
		dead[*in.MessageAttributes[message.AttrOriginalMessageID].StringValue] = in
	}
	require.Len(t, dead, 3)
	class := func(id string) string { return *dead[id].MessageAttributes[message.AttrFailureClass].StringValue }
	reason := func(id string) string { return *dead[id].MessageAttributes[message.AttrFailureReason].StringValue }
	require.Equal(t, message.ClassConflict, class("s3"))
	require.Contains(t, reason("s3"), "messageId a at 2026-11-26T23:12:43.0000000Z is already stored with different content")
	require.NotContains(t, reason("s3"), "signed out", "no payload in reasons")
	require.Equal(t, message.ClassDecode, class("s4"))
	require.Equal(t, message.ClassValidation, class("s5"))
	require.Contains(t, reason("s5"), "auditText is empty")
	require.Equal(t, `{"auditText":`, *dead["s4"].MessageBody, "the original body is kept for redrive")
}

// audit-receiver accepts audit version 1, and messages without the
// attributes (the article's .NET producer, the aws CLI) as that version.
func TestAcceptedVersions(t *testing.T) {
	t.Parallel()
	f := fixture{store: &memStore{items: map[string]audit.Record{}, fail: map[string]error{}},
		sqs: &batchtest.SQS{}, count: &batchtest.Counter{}}
	h := &handler{store: f.store, metrics: f.count, limits: audit.Limits{Now: func() time.Time { return time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC) }}}
	cfg := settings{Consumer: function.Consumer{DLQURL: "https://sqs/123456789012/audit-dlq", DLQMaxBytes: batch.DefaultDeadLetterMaxBytes}, Concurrency: 1, BackoffBase: time.Second, BackoffMax: time.Minute}
	proc, err := batch.New(h.handle, processorOptions(cfg, f.sqs, logging.New(logging.WithOutput(io.Discard)))...)
	require.NoError(t, err)
	body := func(text string) string { return `{"auditText":"` + text + `","auditTime":"2026-11-26T23:12:43Z"}` }
	with := func(r events.SQSMessage, typ, ver string) events.SQSMessage {
		r.MessageAttributes = map[string]events.SQSMessageAttribute{
			message.AttrType: {StringValue: &typ, DataType: "String"}, message.AttrVersion: {StringValue: &ver, DataType: "String"}}
		return r
	}
	resp, err := proc.Process(context.Background(), events.SQSEvent{Records: []events.SQSMessage{
		with(record("v1", body("one")), message.TypeAudit, "1"),
		record("bare", body("cli")),
		with(record("v2", body("two")), message.TypeAudit, "2"),
		with(record("sms", body("three")), message.TypeSMS, "1"),
	}})
	require.NoError(t, err)
	require.Empty(t, resp.BatchItemFailures)
	require.Len(t, f.store.items, 2, "v1 and the message without attributes are stored")
	require.Len(t, f.sqs.DeadLetters(), 2)
	for _, d := range f.sqs.DeadLetters() {
		require.Equal(t, message.ClassUnsupportedVersion, aws.ToString(d.MessageAttributes[message.AttrFailureClass].StringValue))
	}
	require.Contains(t, aws.ToString(f.sqs.DeadLetters()[0].MessageAttributes[message.AttrFailureReason].StringValue)+
		aws.ToString(f.sqs.DeadLetters()[1].MessageAttributes[message.AttrFailureReason].StringValue), `version "2"`)
}
