//go:build integration

package localrt

// Conformance tests for alarms (issue 14, item 2): CloudWatch's initial
// state and first transition, actions included.

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/stretchr/testify/require"
)

// alarmTopic creates a topic with the behave function (mode succeed)
// subscribed, for alarm actions.
func alarmTopic(t *testing.T, f *fixture, handler string) string {
	t.Helper()
	fnARN := createFunction(t, f.cfg, handler, 3, map[string]string{"FIXTURE_MODE": "succeed", "FIXTURE_RECORD": f.record})
	topic := createTopic(t, f.cfg, f.name+"-alarms")
	subscribeFunction(t, f.cfg, topic, fnARN, nil)
	return topic
}

func alarmPayloads(t *testing.T, f *fixture) []events.CloudWatchAlarmSNSPayload {
	t.Helper()
	var out []events.CloudWatchAlarmSNSPayload
	for _, inv := range f.invokes() {
		var ev events.SNSEvent
		require.NoError(t, json.Unmarshal(inv.Event, &ev))
		for _, r := range ev.Records {
			var p events.CloudWatchAlarmSNSPayload
			require.NoError(t, json.Unmarshal([]byte(r.SNS.Message), &p))
			out = append(out, p)
		}
	}
	return out
}

// On AWS a new alarm is INSUFFICIENT_DATA ("Unchecked: Initial alarm
// creation") and its first evaluation with data moves it to OK, firing its OK
// actions; an update of the alarm keeps its state.
func TestConformanceNewAlarmStartsInsufficientDataAndItsFirstOKFiresOKActions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newBaseFixture(t, "lrt-insuff")
	cfg := f.cfg
	createQueue(t, f.sqs, f.name+"-dlq", nil)
	topic := alarmTopic(t, f, f.name+"-handler")

	cw := cloudwatch.NewFromConfig(cfg, CloudWatchQueryProtocol)
	alarmName := f.name + "-dlq-not-empty"
	put := &cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String(alarmName), Namespace: aws.String("AWS/SQS"), MetricName: aws.String("ApproximateNumberOfMessagesVisible"),
		Dimensions: []cwtypes.Dimension{{Name: aws.String("QueueName"), Value: aws.String(f.name + "-dlq")}},
		Statistic:  cwtypes.StatisticMaximum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1),
		ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold, Threshold: aws.Float64(0),
		TreatMissingData: aws.String("notBreaching"), ActionsEnabled: aws.Bool(true),
		AlarmActions: []string{topic}, OKActions: []string{topic},
	}
	_, err := cw.PutMetricAlarm(ctx, put)
	require.NoError(t, err)
	t.Cleanup(func() {
		_, _ = cw.DeleteAlarms(context.Background(), &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{alarmName}})
	})
	state := func() cwtypes.StateValue {
		a, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{alarmName}})
		require.NoError(t, err)
		require.Len(t, a.MetricAlarms, 1)
		return a.MetricAlarms[0].StateValue
	}
	require.Equal(t, cwtypes.StateValueInsufficientData, state(), "a new alarm has no data yet")

	f.start(Config{Functions: []string{f.name + "-handler"}, AlarmPeriod: 300 * time.Millisecond, AlarmNamePrefix: f.name})
	eventually(t, 10*time.Second, func() bool { return len(f.invokes()) >= 1 }, "the first evaluation fires the OK actions")
	time.Sleep(900 * time.Millisecond) // three more evaluations: the state holds, nothing more is sent
	ps := alarmPayloads(t, f)
	require.Len(t, ps, 1, "one notification: the first transition")
	require.Equal(t, "OK", ps[0].NewStateValue)
	require.Equal(t, "INSUFFICIENT_DATA", ps[0].OldStateValue)
	require.Equal(t, cwtypes.StateValueOk, state())

	// Updating the alarm (a later terraform apply) keeps its state.
	put.AlarmDescription = aws.String("updated")
	_, err = cw.PutMetricAlarm(ctx, put)
	require.NoError(t, err)
	require.Equal(t, cwtypes.StateValueOk, state(), "an update does not reset the state")
}
