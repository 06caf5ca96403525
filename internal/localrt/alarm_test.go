package localrt

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/stretchr/testify/require"

	"github.com/offload/offload/pkg/dlq"
)

func dlqAlarm(treat string, n, m int32) cwtypes.MetricAlarm {
	a := cwtypes.MetricAlarm{
		AlarmName:          aws.String("audit-dlq-not-empty"),
		AlarmDescription:   aws.String("audit DLQ has messages"),
		AlarmArn:           aws.String("arn:aws:cloudwatch:us-east-1:123456789012:alarm:audit-dlq-not-empty"),
		Namespace:          aws.String("AWS/SQS"),
		MetricName:         aws.String("ApproximateNumberOfMessagesVisible"),
		Dimensions:         []cwtypes.Dimension{{Name: aws.String("QueueName"), Value: aws.String("audit-dlq")}},
		Statistic:          cwtypes.StatisticMaximum,
		Period:             aws.Int32(60),
		EvaluationPeriods:  aws.Int32(n),
		ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold,
		Threshold:          aws.Float64(0),
		ActionsEnabled:     aws.Bool(true),
		AlarmActions:       []string{"arn:aws:sns:us-east-1:123456789012:alarms"},
	}
	if treat != "" {
		a.TreatMissingData = aws.String(treat)
	}
	if m > 0 {
		a.DatapointsToAlarm = aws.Int32(m)
	}
	return a
}

func points(vals ...float64) []datapoint {
	out := make([]datapoint, len(vals))
	at := time.Date(2026, 11, 27, 0, 50, 0, 0, time.UTC)
	for i, v := range vals {
		if v < 0 {
			out[i] = datapoint{at: at, missing: true}
			continue
		}
		out[i] = datapoint{at: at, value: v}
	}
	return out
}

func TestEvaluateAppliesThresholdAndMissingData(t *testing.T) {
	t.Parallel()
	const missing = -1
	cases := []struct {
		name    string
		alarm   cwtypes.MetricAlarm
		points  []datapoint
		current string
		want    string
	}{
		{"breach", dlqAlarm("notBreaching", 1, 0), points(2), dlq.StateOK, dlq.StateAlarm},
		{"at threshold is not greater", dlqAlarm("notBreaching", 1, 0), points(0), dlq.StateAlarm, dlq.StateOK},
		{"missing treated as not breaching", dlqAlarm("notBreaching", 1, 0), points(missing), dlq.StateAlarm, dlq.StateOK},
		{"missing treated as breaching", dlqAlarm("breaching", 1, 0), points(missing), dlq.StateOK, dlq.StateAlarm},
		{"missing by default is insufficient data", dlqAlarm("", 1, 0), points(missing), dlq.StateOK, dlq.StateInsufficientData},
		{"ignore keeps the state", dlqAlarm("ignore", 1, 0), points(missing), dlq.StateAlarm, dlq.StateAlarm},
		{"2 of 3 needs two breaches", dlqAlarm("notBreaching", 3, 2), points(1, 0, 0), dlq.StateOK, dlq.StateOK},
		{"2 of 3 alarms on two breaches", dlqAlarm("notBreaching", 3, 2), points(1, 0, 3), dlq.StateOK, dlq.StateAlarm},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, reason, data := evaluate(tc.alarm, tc.points, tc.current)
			require.Equal(t, tc.want, got)
			if got != tc.current {
				require.NotEmpty(t, reason)
				require.True(t, json.Valid([]byte(data)), data)
			}
		})
	}
	_, reason, _ := evaluate(dlqAlarm("notBreaching", 1, 0), points(2), dlq.StateOK)
	require.Equal(t, "Threshold Crossed: 1 out of the last 1 datapoints [2.0 (27/11/26 00:50:00)] was greater than the threshold (0.0) (minimum 1 datapoint for OK -> ALARM transition).", reason)
}

// alarmPayload is the notification alarmMessage writes for a's OK → ALARM
// transition in us-east-1, and that message read as the SNS payload the
// dlq-alarm-handler receives.
func alarmPayload(t *testing.T, a cwtypes.MetricAlarm, reason string, at time.Time) (string, events.CloudWatchAlarmSNSPayload) {
	t.Helper()
	msg, err := alarmMessage(a, dlq.StateOK, dlq.StateAlarm, reason, "us-east-1", at)
	require.NoError(t, err)
	var p events.CloudWatchAlarmSNSPayload
	require.NoError(t, json.Unmarshal([]byte(msg), &p))
	return msg, p
}

func TestAlarmMessageIsCloudWatchsPayload(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 27, 0, 50, 0, 123e6, time.UTC)
	msg, p := alarmPayload(t, dlqAlarm("notBreaching", 1, 0), "Threshold Crossed: …", at)
	require.Equal(t, "audit-dlq-not-empty", p.AlarmName)
	require.Equal(t, "audit DLQ has messages", p.AlarmDescription)
	require.Equal(t, "123456789012", p.AWSAccountID)
	require.Equal(t, dlq.StateAlarm, p.NewStateValue)
	require.Equal(t, dlq.StateOK, p.OldStateValue)
	require.Equal(t, "2026-11-27T00:50:00.123+0000", p.StateChangeTime)
	require.Equal(t, "US East (N. Virginia)", p.Region)
	require.Equal(t, "arn:aws:cloudwatch:us-east-1:123456789012:alarm:audit-dlq-not-empty", p.AlarmARN)
	require.Equal(t, "ApproximateNumberOfMessagesVisible", p.Trigger.MetricName)
	require.Equal(t, "AWS/SQS", p.Trigger.Namespace)
	require.Equal(t, "Statistic", p.Trigger.StatisticType)
	require.Equal(t, "MAXIMUM", p.Trigger.Statistic)
	require.Equal(t, []events.CloudWatchDimension{{Name: "QueueName", Value: "audit-dlq"}}, p.Trigger.Dimensions)
	require.EqualValues(t, 60, p.Trigger.Period)
	require.EqualValues(t, 1, p.Trigger.EvaluationPeriods)
	require.Equal(t, "GreaterThanThreshold", p.Trigger.ComparisonOperator)
	require.Zero(t, p.Trigger.Threshold)
	require.Equal(t, "- TreatMissingData:                    notBreaching", p.Trigger.TreatMissingData)

	var raw map[string]any
	require.NoError(t, json.Unmarshal([]byte(msg), &raw))
	require.Contains(t, raw["Trigger"], "Unit", "Unit is present (null), as CloudWatch sends it")
}

func TestAggregateAppliesTheAlarmStatisticToThePeriodSamples(t *testing.T) {
	t.Parallel()
	now := time.Now()
	samples := []float64{3, 0, 5, 1} // a DLQ sample hid the messages for a moment
	cases := map[cwtypes.Statistic]float64{
		cwtypes.StatisticMaximum: 5, cwtypes.StatisticMinimum: 0, cwtypes.StatisticSum: 9,
		cwtypes.StatisticAverage: 2.25, cwtypes.StatisticSampleCount: 4,
	}
	for stat, want := range cases {
		dp := aggregate(cwtypes.MetricAlarm{Statistic: stat}, samples, now)
		require.False(t, dp.missing)
		require.Equal(t, want, dp.value, stat)
	}
	p50 := aggregate(cwtypes.MetricAlarm{ExtendedStatistic: aws.String("p50")}, samples, now)
	require.Equal(t, 1.0, p50.value)
	require.True(t, aggregate(cwtypes.MetricAlarm{Statistic: cwtypes.StatisticMaximum}, nil, now).missing)
}
