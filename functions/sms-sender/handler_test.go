package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/stretchr/testify/require"

	"github.com/offload/offload/pkg/batch"
	"github.com/offload/offload/pkg/batch/batchtest"
	"github.com/offload/offload/pkg/idempotency"
	"github.com/offload/offload/pkg/logging"
	"github.com/offload/offload/pkg/logging/loggingtest"
	"github.com/offload/offload/pkg/message"
	"github.com/offload/offload/pkg/sms"
)

// provider answers by destination: numbers in fail get that error (once per
// entry), everything else is sent.
type provider struct {
	mu    sync.Mutex
	fail  map[string][]error
	sent  []sms.Request
	calls atomic.Int32
}

func (p *provider) Name() string { return "fake" }

func (p *provider) Send(_ context.Context, m sms.Request) (sms.Receipt, error) {
	p.calls.Add(1)
	p.mu.Lock()
	defer p.mu.Unlock()
	if errs := p.fail[m.To]; len(errs) > 0 {
		p.fail[m.To] = errs[1:]
		return sms.Receipt{}, errs[0]
	}
	p.sent = append(p.sent, m)
	return sms.Receipt{Provider: "fake", ID: fmt.Sprintf("p-%d", len(p.sent))}, nil
}

type fixture struct {
	prov  *provider
	sqs   *batchtest.SQS
	count *batchtest.Counter
	logs  *loggingtest.Buffer
	proc  *batch.Processor
	store *idempotency.MemoryStore
}

func setup(t *testing.T) fixture {
	t.Helper()
	f := fixture{prov: &provider{fail: map[string][]error{}}, sqs: &batchtest.SQS{},
		count: &batchtest.Counter{}, logs: &loggingtest.Buffer{}}
	var err error
	f.store, err = idempotency.NewMemory()
	require.NoError(t, err)
	sender, err := sms.NewSender(f.prov, f.store)
	require.NoError(t, err)
	h := &handler{sender: sender, metrics: f.count}
	f.proc, err = batch.New(h.handle, batch.WithConcurrency(5), batch.WithDeadLetter(f.sqs, "https://sqs/123456789012/sms-dlq"), batch.WithFirstEnqueueTime(),
		batch.WithBackoff(f.sqs, batch.ExponentialBackoff(5*time.Second, time.Minute)), batch.WithLogger(logging.New(logging.WithOutput(f.logs))))
	require.NoError(t, err)
	return f
}

func rec(id, body string) events.SQSMessage {
	return events.SQSMessage{MessageId: id, ReceiptHandle: "rh-" + id, Body: body, EventSourceARN: "arn:aws:sqs:us-east-1:123456789012:sms",
		Attributes: map[string]string{"ApproximateReceiveCount": "1"}}
}

func reqBody(id, to string) string {
	return fmt.Sprintf(`{"requestId":%q,"to":%q,"body":"Your code is 424242"}`, id, to)
}

func TestEachRequestIsSentOnceWhateverTheDeliveries(t *testing.T) {
	t.Parallel()
	f := setup(t)
	var records []events.SQSMessage
	for i := range 5 {
		to := fmt.Sprintf("+4474001234%02d", i)
		records = append(records, rec(fmt.Sprintf("a-%d", i), reqBody(fmt.Sprintf("r-%d", i), to)))
	}
	resp, err := f.proc.Process(context.Background(), events.SQSEvent{Records: records})
	require.NoError(t, err)
	require.Empty(t, resp.BatchItemFailures)
	// The producer retried (new SQS messages, same request ids) and SQS redelivered.
	var again []events.SQSMessage
	for i := range 5 {
		again = append(again, rec(fmt.Sprintf("b-%d", i), reqBody(fmt.Sprintf("r-%d", i), fmt.Sprintf("+4474001234%02d", i))), records[i])
	}
	resp, err = f.proc.Process(context.Background(), events.SQSEvent{Records: again})
	require.NoError(t, err)
	require.Empty(t, resp.BatchItemFailures)
	require.EqualValues(t, 5, f.prov.calls.Load())
	require.Len(t, f.prov.sent, 5)
	require.Equal(t, 5, f.count.Get("SMSSent"))
	require.Equal(t, 10, f.count.Get("SMSDuplicateDelivery"))
}

func TestFailuresGoWhereTheyBelong(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.prov.fail["+447400000001"] = []error{&sms.Error{Provider: "fake", Kind: sms.Rejected, Code: "21211", Message: "invalid 'To' number +44*********01"}}
	f.prov.fail["+447400000002"] = []error{&sms.Error{Provider: "fake", Kind: sms.Retryable, Code: "20429", RetryAfter: 9 * time.Second}}
	f.prov.fail["+447400000003"] = []error{&sms.Error{Provider: "fake", Kind: sms.Unknown, Code: "no-response", Message: "no answer"}}
	f.prov.fail["+447400000004"] = []error{&sms.Error{Provider: "fake", Kind: sms.Retryable, Code: "HTTP 503"}}
	ev := events.SQSEvent{Records: []events.SQSMessage{
		rec("m-rejected", reqBody("r-1", "+447400000001")),
		rec("m-throttled", reqBody("r-2", "+447400000002")),
		rec("m-unknown", reqBody("r-3", "+447400000003")),
		rec("m-5xx", reqBody("r-4", "+447400000004")),
		rec("m-national", reqBody("r-5", "07400 000005")),
		rec("m-garbage", `{"requestId":`),
	}}
	resp, err := f.proc.Process(context.Background(), ev)
	require.NoError(t, err)
	require.ElementsMatch(t, []events.SQSBatchItemFailure{{ItemIdentifier: "m-throttled"}, {ItemIdentifier: "m-5xx"}}, resp.BatchItemFailures)
	require.Equal(t, int32(9), f.sqs.Visibility("rh-m-throttled"), "the provider's Retry-After")
	require.Equal(t, int32(5), f.sqs.Visibility("rh-m-5xx"), "the backoff policy")

	class := func(id string) string {
		return *f.sqs.DeadLettersByID()[id].MessageAttributes[message.AttrFailureClass].StringValue
	}
	reason := func(id string) string {
		return *f.sqs.DeadLettersByID()[id].MessageAttributes[message.AttrFailureReason].StringValue
	}
	require.Len(t, f.sqs.DeadLettersByID(), 4)
	require.Equal(t, message.ClassRejected, class("m-rejected"))
	require.Contains(t, reason("m-rejected"), "21211")
	require.Equal(t, message.ClassUnknownOutcome, class("m-unknown"))
	require.Contains(t, reason("m-unknown"), "not resent")
	require.Equal(t, message.ClassValidation, class("m-national"))
	require.Equal(t, message.ClassDecode, class("m-garbage"))

	// The throttled request goes out on its next delivery; the unknown one never again.
	resp, err = f.proc.Process(context.Background(), events.SQSEvent{Records: []events.SQSMessage{ev.Records[1], ev.Records[2]}})
	require.NoError(t, err)
	require.Empty(t, resp.BatchItemFailures)
	require.Len(t, f.prov.sent, 1)
	require.Equal(t, "+447400000002", f.prov.sent[0].To)
	require.Equal(t, 2, f.count.Get("SMSUnknownOutcome"))

	logs := f.logs.String()
	for _, n := range []string{"447400000001", "447400000002", "447400000003", "7400 000005"} {
		require.NotContains(t, logs, n, "no full number in any log line")
	}
	require.NotContains(t, logs, "424242", "bodies are never logged")
	for _, d := range f.sqs.DeadLettersByID() {
		require.NotContains(t, *d.MessageAttributes[message.AttrFailureReason].StringValue, "424242")
	}
}

func TestConflictingReuseOfARequestID(t *testing.T) {
	t.Parallel()
	f := setup(t)
	_, err := f.proc.Process(context.Background(), events.SQSEvent{Records: []events.SQSMessage{rec("m1", reqBody("r-1", "+447400000001"))}})
	require.NoError(t, err)
	_, err = f.proc.Process(context.Background(), events.SQSEvent{Records: []events.SQSMessage{rec("m2", reqBody("r-1", "+447400000009"))}})
	require.NoError(t, err)
	require.Equal(t, message.ClassConflict, *f.sqs.DeadLettersByID()["m2"].MessageAttributes[message.AttrFailureClass].StringValue)
	require.EqualValues(t, 1, f.prov.calls.Load())
}

type staticCreds sms.TwilioCredentials

func (c staticCreds) Credentials(context.Context) (sms.TwilioCredentials, error) {
	return sms.TwilioCredentials(c), nil
}
func (staticCreds) Invalidate() {}

// TestTwilioAcceptedThen500IsSentOnceAndDeadLetteredAsUnknown: a Twilio edge
// that accepts the message and still answers 500. The record is delivered
// again as long as the processor fails it (up to three deliveries): the text
// goes out once and the request is dead-lettered once, as an unknown outcome.
func TestTwilioAcceptedThen500IsSentOnceAndDeadLetteredAsUnknown(t *testing.T) {
	t.Parallel()
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1) // accepted: the text is on its way
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(`{"code":20500,"message":"Internal Server Error","status":500}`))
	}))
	t.Cleanup(srv.Close)
	creds := staticCreds{AccountSID: "AC1", AuthToken: "tok", From: "+15005550006"}
	f := setup(t)
	sender, err := sms.NewSender(sms.NewTwilio(creds, sms.WithTwilioURL(srv.URL)), f.store)
	require.NoError(t, err)
	h := &handler{sender: sender, metrics: f.count}
	proc, err := batch.New(h.handle, batch.WithDeadLetter(f.sqs, "https://sqs/123456789012/sms-dlq"),
		batch.WithBackoff(f.sqs, batch.ExponentialBackoff(5*time.Second, time.Minute)), batch.WithLogger(logging.New(logging.WithOutput(f.logs))))
	require.NoError(t, err)

	r := rec("m-500", reqBody("r-500", "+447400000500"))
	deliveries := 0
	for deliveries < 3 {
		deliveries++
		resp, err := proc.Process(context.Background(), events.SQSEvent{Records: []events.SQSMessage{r}})
		require.NoError(t, err)
		if len(resp.BatchItemFailures) == 0 {
			break // deleted from the queue (sent or dead-lettered)
		}
	}
	require.Equal(t, 1, deliveries, "dead-lettered on its first delivery, not redelivered")
	require.EqualValues(t, 1, requests.Load(), "one text")
	require.Len(t, f.sqs.DeadLettersByID(), 1)
	require.Equal(t, message.ClassUnknownOutcome, *f.sqs.DeadLettersByID()["m-500"].MessageAttributes[message.AttrFailureClass].StringValue)
	require.Contains(t, *f.sqs.DeadLettersByID()["m-500"].MessageAttributes[message.AttrFailureReason].StringValue, "20500", "the reason names the provider's answer")

	// A duplicate delivery of the same request is reported again, never sent.
	resp, err := proc.Process(context.Background(), events.SQSEvent{Records: []events.SQSMessage{rec("m-500-dup", reqBody("r-500", "+447400000500"))}})
	require.NoError(t, err)
	require.Empty(t, resp.BatchItemFailures)
	require.EqualValues(t, 1, requests.Load(), "still one text")
	require.Equal(t, message.ClassUnknownOutcome, *f.sqs.DeadLettersByID()["m-500-dup"].MessageAttributes[message.AttrFailureClass].StringValue)
}

// A batch delivered with too little time left for a provider call: nothing
// is started, every record goes back at once (1 s, not the backoff) and is
// sent on its next delivery.
func TestRecordsWithoutTimeToSendAreNotStarted(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second) // a send needs 10.5 s
	defer cancel()
	ev := events.SQSEvent{Records: []events.SQSMessage{rec("m-1", reqBody("r-1", "+447400000001")), rec("m-2", reqBody("r-2", "+447400000002"))}}
	resp, err := f.proc.Process(ctx, ev)
	require.NoError(t, err)
	require.ElementsMatch(t, []events.SQSBatchItemFailure{{ItemIdentifier: "m-1"}, {ItemIdentifier: "m-2"}}, resp.BatchItemFailures)
	require.Zero(t, f.prov.calls.Load(), "never started")
	require.Equal(t, int32(1), f.sqs.Visibility("rh-m-1"))
	require.Equal(t, int32(1), f.sqs.Visibility("rh-m-2"))
	require.Equal(t, 2, f.count.Get("SMSNotStarted"))
	require.Empty(t, f.sqs.DeadLettersByID())

	resp, err = f.proc.Process(context.Background(), ev)
	require.NoError(t, err)
	require.Empty(t, resp.BatchItemFailures)
	require.EqualValues(t, 2, f.prov.calls.Load())
}

// A request redriven more than once can arrive after its idempotency record
// expired (each redrive gives it a new SentTimestamp and a new retention in
// the queue). Its first-enqueue time, carried across redrives, says it is
// older than the records are kept: it is dead-lettered as expired, never
// sent — the record of an earlier send may be gone. Failed before the age
// check: both old requests were sent.
func TestARequestOlderThanItsRecordCouldBeIsNotSent(t *testing.T) {
	t.Parallel()
	f := setup(t) // records kept 24 h (idempotency.DefaultRetention)
	now := time.Now()
	redriven := rec("m-redriven", reqBody("r-old", "+447400000011"))
	redriven.Attributes["SentTimestamp"] = strconv.FormatInt(now.Add(-time.Minute).UnixMilli(), 10) // re-sent a minute ago
	first := now.Add(-30 * 24 * time.Hour).UTC().Format("2006-01-02T15:04:05.000Z07:00")
	redriven.MessageAttributes = map[string]events.SQSMessageAttribute{
		"offload.first-enqueued-at": {DataType: "String", StringValue: aws.String(first)},
	}
	old := rec("m-old", reqBody("r-old-2", "+447400000012"))
	old.Attributes["SentTimestamp"] = strconv.FormatInt(now.Add(-25*time.Hour).UnixMilli(), 10) // no attribute: SentTimestamp counts
	young := rec("m-young", reqBody("r-young", "+447400000013"))
	young.Attributes["SentTimestamp"] = strconv.FormatInt(now.Add(-time.Minute).UnixMilli(), 10)
	young.MessageAttributes = map[string]events.SQSMessageAttribute{
		"offload.first-enqueued-at": {DataType: "String", StringValue: aws.String(now.Add(-23 * time.Hour).UTC().Format("2006-01-02T15:04:05.000Z07:00"))},
	}

	resp, err := f.proc.Process(context.Background(), events.SQSEvent{Records: []events.SQSMessage{redriven, old, young}})
	require.NoError(t, err)
	require.Empty(t, resp.BatchItemFailures)
	require.Len(t, f.prov.sent, 1, "only the young request is sent")
	require.Equal(t, "+447400000013", f.prov.sent[0].To)

	require.Len(t, f.sqs.DeadLettersByID(), 2)
	for _, id := range []string{"m-redriven", "m-old"} {
		d := f.sqs.DeadLettersByID()[id]
		require.NotNil(t, d, id)
		require.Equal(t, "expired", *d.MessageAttributes[message.AttrFailureClass].StringValue, id)
		reason := *d.MessageAttributes[message.AttrFailureReason].StringValue
		require.Contains(t, reason, "longer than idempotency records are kept (24h0m0s", id)
		require.Contains(t, reason, "not sent", id)
	}
	require.Contains(t, *f.sqs.DeadLettersByID()["m-redriven"].MessageAttributes[message.AttrFailureReason].StringValue, "first enqueued 720h")
	require.Equal(t, first, *f.sqs.DeadLettersByID()["m-redriven"].MessageAttributes["offload.first-enqueued-at"].StringValue,
		"the dead letter keeps the first enqueue time: a further redrive is refused too")
	require.Equal(t, 2, f.count.Get("SMSExpired"))
}
