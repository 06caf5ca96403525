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

func TestParseSNSDeliveredAlarm(t *testing.T) {
	t.Parallel()
	alarms, err := ParseEvent(readFixture(t, "sns-alarm-event.json"))
	require.NoError(t, err)
	require.Len(t, alarms, 1)
	a := alarms[0]
	require.Equal(t, "offload-dev-audit-dlq-not-empty", a.Name)
	require.Equal(t, StateAlarm, a.State)
	require.Equal(t, StateOK, a.PreviousState)
	require.Equal(t, "offload-dev-audit-dlq", a.QueueName())
	require.Equal(t, "ApproximateNumberOfMessagesVisible", a.MetricName)
	require.Equal(t, 1.0, a.Threshold)
	require.Equal(t, "b6e3e1f2-6c43-5a8e-9b4e-0f0a3f6b7c11", a.DeliveryID)
	require.True(t, a.ChangedAt.Equal(time.Date(2026, 11, 27, 0, 12, 43, 123e6, time.UTC)), a.ChangedAt)
}

func TestParseDirectAlarmInvocation(t *testing.T) {
	t.Parallel()
	alarms, err := ParseEvent(readFixture(t, "direct-alarm-event.json"))
	require.NoError(t, err)
	require.Len(t, alarms, 1)
	a := alarms[0]
	require.Equal(t, "offload-dev-sms-dlq-not-empty", a.Name)
	require.Equal(t, StateOK, a.State)
	require.Equal(t, StateAlarm, a.PreviousState)
	require.Equal(t, "offload-dev-sms-dlq", a.QueueName())
	require.Equal(t, "123456789012", a.AccountID)
	require.True(t, a.ChangedAt.Equal(time.Date(2026, 11, 27, 0, 20, 0, 0, time.UTC)))
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
