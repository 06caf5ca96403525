package dlq

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/require"

	"github.com/offload/offload/pkg/dlq/dlqtest"
)

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	return dlqtest.Event(t, name)
}

// Both ways an alarm reaches the handler — delivered by SNS, or a direct
// alarm invocation — parse to the same Alarm.
func TestParseAlarmDeliveries(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		fixture         string
		name, queue     string
		state, previous string
		changedAt       time.Time
		more            func(t *testing.T, a Alarm) // what only this delivery carries
	}{
		{"sns-alarm-event.json", "offload-dev-audit-dlq-not-empty", "offload-dev-audit-dlq", StateAlarm, StateOK,
			time.Date(2026, 11, 27, 0, 12, 43, 123e6, time.UTC), func(t *testing.T, a Alarm) {
				require.Equal(t, "ApproximateNumberOfMessagesVisible", a.MetricName)
				require.Equal(t, 1.0, a.Threshold)
				require.Equal(t, "b6e3e1f2-6c43-5a8e-9b4e-0f0a3f6b7c11", a.DeliveryID)
			}},
		{"direct-alarm-event.json", "offload-dev-sms-dlq-not-empty", "offload-dev-sms-dlq", StateOK, StateAlarm,
			time.Date(2026, 11, 27, 0, 20, 0, 0, time.UTC), func(t *testing.T, a Alarm) {
				require.Equal(t, "123456789012", a.AccountID)
			}},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			t.Parallel()
			alarms, err := ParseEvent(readFixture(t, tc.fixture))
			require.NoError(t, err)
			require.Len(t, alarms, 1)
			a := alarms[0]
			require.Equal(t, tc.name, a.Name)
			require.Equal(t, tc.state, a.State)
			require.Equal(t, tc.previous, a.PreviousState)
			require.Equal(t, tc.queue, a.QueueName())
			require.True(t, a.ChangedAt.Equal(tc.changedAt), a.ChangedAt)
			tc.more(t, a)
		})
	}
}

func TestChangeKeyIsTheSameForTwoDeliveriesOfOneChange(t *testing.T) {
	t.Parallel()
	raw := readFixture(t, "sns-alarm-event.json")
	var ev events.SNSEvent
	require.NoError(t, json.Unmarshal(raw, &ev))
	second := ev.Records[0]
	second.SNS.MessageID = "another-delivery"
	ev.Records = append(ev.Records, second)
	b, err := json.Marshal(ev)
	require.NoError(t, err)
	alarms, err := ParseEvent(b)
	require.NoError(t, err)
	require.Len(t, alarms, 2)
	require.NotEqual(t, alarms[0].DeliveryID, alarms[1].DeliveryID)
	require.Equal(t, alarms[0].ChangeKey(), alarms[1].ChangeKey())

	later := alarms[0]
	later.ChangedAt = later.ChangedAt.Add(time.Minute)
	require.NotEqual(t, alarms[0].ChangeKey(), later.ChangeKey(), "a new change is a new key")
}

func TestParseRejectsWhatIsNotAnAlarm(t *testing.T) {
	t.Parallel()
	for name, body := range map[string]string{
		"not json":      `hello`,
		"other event":   `{"detail-type":"Scheduled Event"}`,
		"sns not alarm": `{"Records":[{"Sns":{"MessageId":"m1","Message":"hello"}}]}`,
		"bad state":     `{"Records":[{"Sns":{"MessageId":"m1","Message":"{\"AlarmName\":\"a\",\"NewStateValue\":\"MAYBE\"}"}}]}`,
		"bad time":      `{"source":"aws.cloudwatch","alarmData":{"alarmName":"a","state":{"value":"OK","timestamp":"yesterday"}}}`,
	} {
		_, err := ParseEvent([]byte(body))
		require.Error(t, err, name)
	}
	// A good record next to a bad one: the good one is kept, the bad one reported.
	mixed := `{"Records":[{"Sns":{"MessageId":"bad","Message":"x"}},{"Sns":{"MessageId":"good","Message":"{\"AlarmName\":\"a\",\"NewStateValue\":\"OK\"}"}}]}`
	alarms, err := ParseEvent([]byte(mixed))
	require.ErrorContains(t, err, "bad")
	require.Len(t, alarms, 1)
	require.Equal(t, "good", alarms[0].DeliveryID)
}
