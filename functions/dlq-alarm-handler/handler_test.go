package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/require"

	"github.com/offload/offload/pkg/dlq"
	"github.com/offload/offload/pkg/dlq/dlqtest"
	"github.com/offload/offload/pkg/idempotency"
	"github.com/offload/offload/pkg/logging"
)

type fakeSampler struct {
	mu     sync.Mutex
	calls  []string
	sample dlq.Sample
}

func (f *fakeSampler) Sample(_ context.Context, q string, n int) (dlq.Sample, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, q)
	s := f.sample
	s.QueueName = q
	if len(s.Messages) > n {
		s.Messages = s.Messages[:n]
	}
	return s, nil
}

type recorder struct {
	mu   sync.Mutex
	got  []dlq.Notification
	fail error
}

func (r *recorder) Notify(_ context.Context, n dlq.Notification) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	r.got = append(r.got, n)
	return nil
}

func setup(t *testing.T) (*handler, *fakeSampler, *recorder) {
	t.Helper()
	store, err := idempotency.NewMemory()
	require.NoError(t, err)
	s := &fakeSampler{sample: dlq.Sample{Visible: 2, Messages: []dlq.SampledMessage{{MessageID: "m-1", FailureReason: "auditText is empty"}, {MessageID: "m-2"}}}}
	r := &recorder{}
	h := &handler{env: "dev", sampler: s, sampleSize: 10, deadQueues: map[string]bool{"offload-dev-audit-dlq": true, "offload-dev-sms-dlq": true},
		store: store, notifiers: []namedNotifier{{"test", r}}, log: logging.New(logging.WithOutput(io.Discard))}
	return h, s, r
}

func fixture(t *testing.T, name string) json.RawMessage {
	t.Helper()
	return dlqtest.Event(t, name)
}

func TestAlarmThroughSNSSamplesTheDLQAndNotifiesOnce(t *testing.T) {
	t.Parallel()
	h, s, r := setup(t)
	ev := fixture(t, "sns-alarm-event.json")
	require.NoError(t, h.handle(context.Background(), ev))
	require.NoError(t, h.handle(context.Background(), ev), "SNS delivered it twice")

	require.Equal(t, []string{"offload-dev-audit-dlq"}, s.calls)
	require.Len(t, r.got, 1)
	n := r.got[0]
	require.Equal(t, "dev", n.Environment)
	require.Equal(t, dlq.StateAlarm, n.Alarm.State)
	require.NotNil(t, n.Sample)
	require.Contains(t, n.Text(), "m-1")
	require.Contains(t, n.Text(), "auditText is empty")
}

func TestDuplicateRecordsInOneEventNotifyOnce(t *testing.T) {
	t.Parallel()
	h, _, r := setup(t)
	var ev events.SNSEvent
	require.NoError(t, json.Unmarshal(fixture(t, "sns-alarm-event.json"), &ev))
	dup := ev.Records[0]
	dup.SNS.MessageID = "redelivery"
	ev.Records = append(ev.Records, dup)
	raw, err := json.Marshal(ev)
	require.NoError(t, err)
	require.NoError(t, h.handle(context.Background(), raw))
	require.Len(t, r.got, 1)
}

func TestRecoveryThroughDirectInvocationSaysRecovered(t *testing.T) {
	t.Parallel()
	h, s, r := setup(t)
	require.NoError(t, h.handle(context.Background(), fixture(t, "direct-alarm-event.json")))
	requireRecovered(t, s, r)
}

// requireRecovered checks what a cleared alarm leaves: no sample taken and
// one notification, that the alarm recovered.
func requireRecovered(t *testing.T, s *fakeSampler, r *recorder) {
	t.Helper()
	require.Empty(t, s.calls, "nothing to sample when the alarm clears")
	require.Len(t, r.got, 1)
	require.True(t, r.got[0].Recovered())
	require.True(t, strings.HasPrefix(r.got[0].Subject(), "[OK] dev recovered"))
}

func TestAlarmOnALiveQueueIsNotSampled(t *testing.T) {
	t.Parallel()
	h, s, r := setup(t)
	ev := strings.ReplaceAll(string(fixture(t, "sns-alarm-event.json")), "offload-dev-audit-dlq", "offload-dev-audit")
	require.NoError(t, h.handle(context.Background(), json.RawMessage(ev)))
	require.Empty(t, s.calls, "receiving from a live queue would delay its messages")
	require.Len(t, r.got, 1)
	require.Nil(t, r.got[0].Sample)
}

func TestFailedNotificationIsRetriedAndThenSentOnce(t *testing.T) {
	t.Parallel()
	h, _, r := setup(t)
	r.fail = errors.New("sns down")
	ev := fixture(t, "sns-alarm-event.json")
	require.ErrorContains(t, h.handle(context.Background(), ev), "no notifier succeeded")
	r.fail = nil
	require.NoError(t, h.handle(context.Background(), ev), "Lambda's async retry")
	require.NoError(t, h.handle(context.Background(), ev))
	require.Len(t, r.got, 1)
}

func TestNotAnAlarmIsAnError(t *testing.T) {
	t.Parallel()
	h, _, r := setup(t)
	require.Error(t, h.handle(context.Background(), json.RawMessage(`{"hello":"world"}`)))
	require.Empty(t, r.got)
}

// An invocation that died mid-report (a timeout) left its lease behind: a
// retry during the lease fails (to be retried again), one after it reports.
func TestReportOfADeadInvocationIsTakenOverNotLost(t *testing.T) {
	t.Parallel()
	h, _, r := setup(t)
	ev := fixture(t, "sns-alarm-event.json")
	alarms, err := dlq.ParseEvent(ev)
	require.NoError(t, err)
	key := "alarm|" + alarms[0].ChangeKey()
	_, err = h.store.Begin(context.Background(), key, idempotency.HashPayload([]byte(key)), 50*time.Millisecond)
	require.NoError(t, err)

	require.ErrorContains(t, h.handle(context.Background(), ev), "in progress elsewhere")
	require.Empty(t, r.got)
	time.Sleep(60 * time.Millisecond)
	require.NoError(t, h.handle(context.Background(), ev))
	require.Len(t, r.got, 1)
}

// On AWS every new alarm starts INSUFFICIENT_DATA and its first evaluation
// moves it to OK, firing its OK actions: on every deploy. Nothing was ever
// wrong, so nothing is reported.
func TestOKAfterInsufficientDataIsNotReported(t *testing.T) {
	t.Parallel()
	h, s, r := setup(t)
	require.NoError(t, h.handle(context.Background(), fixture(t, "sns-ok-after-insufficient-data-event.json")))
	require.Empty(t, s.calls)
	require.Empty(t, r.got, "a fresh alarm's first OK is not a recovery")
}

func TestOKAfterAlarmIsReportedAsRecovered(t *testing.T) {
	t.Parallel()
	h, s, r := setup(t)
	ev := fixture(t, "sns-ok-after-alarm-event.json")
	require.NoError(t, h.handle(context.Background(), ev))
	require.NoError(t, h.handle(context.Background(), ev), "SNS delivered it twice")
	requireRecovered(t, s, r)
	require.Equal(t, dlq.StateAlarm, r.got[0].Alarm.PreviousState)
}
