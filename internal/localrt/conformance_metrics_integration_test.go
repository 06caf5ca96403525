//go:build integration

package localrt

// Conformance tests for the faithful metric mode (issue 14, item 3): one
// AWS/SQS datapoint a minute, ApproximateAgeOfOldestMessage from the oldest
// message's SentTimestamp; and the product check that the DLQ alarm does not
// go OK while the DLQ still holds messages the alarm handler has in flight.
// The minute is scaled (LOCALRT_CLOCK_SCALE, default 1/120: 500 ms).

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/stretchr/testify/require"

	"github.com/offload/offload/internal/testenv"
	"github.com/offload/offload/pkg/logging/loggingtest"
)

type metricsFixture struct {
	*fixture
	cw    *cloudwatch.Client
	scale float64
}

func newMetricsFixture(t *testing.T, prefix string) *metricsFixture {
	t.Helper()
	cfg := testenv.AWSConfig(t)
	f := &metricsFixture{
		fixture: &fixture{t: t, cfg: cfg, sqs: sqs.NewFromConfig(cfg), name: testenv.UniqueName(prefix), logs: &loggingtest.Buffer{}},
		cw:      cloudwatch.NewFromConfig(cfg, CloudWatchQueryProtocol), scale: testClockScale(t),
	}
	f.record = t.TempDir() + "/record.jsonl"
	return f
}

func (f *metricsFixture) putAlarm(in *cloudwatch.PutMetricAlarmInput) {
	f.t.Helper()
	_, err := f.cw.PutMetricAlarm(context.Background(), in)
	require.NoError(f.t, err)
	f.t.Cleanup(func() {
		_, _ = f.cw.DeleteAlarms(context.Background(), &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{aws.ToString(in.AlarmName)}})
	})
}

func (f *metricsFixture) alarm(name string) cwtypes.MetricAlarm {
	f.t.Helper()
	out, err := f.cw.DescribeAlarms(context.Background(), &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{name}})
	require.NoError(f.t, err)
	require.Len(f.t, out.MetricAlarms, 1)
	return out.MetricAlarms[0]
}

// noFunctions limits the runtime to a function nobody deployed: these tests
// run alarms only, next to other tests' functions in the same emulator.
func (f *metricsFixture) noFunctions() []string { return []string{f.name + "-no-function"} }

func (f *metricsFixture) minutes(m float64) time.Duration {
	return time.Duration(m * float64(time.Minute) * f.scale)
}

func sqsMetricStat(id, metric, queue string) cwtypes.MetricDataQuery {
	return cwtypes.MetricDataQuery{Id: aws.String(id), ReturnData: aws.Bool(false), MetricStat: &cwtypes.MetricStat{
		Metric: &cwtypes.Metric{Namespace: aws.String("AWS/SQS"), MetricName: aws.String(metric),
			Dimensions: []cwtypes.Dimension{{Name: aws.String("QueueName"), Value: aws.String(queue)}}},
		Period: aws.Int32(60), Stat: aws.String("Maximum"),
	}}
}

// ApproximateAgeOfOldestMessage is the age of the oldest non-deleted
// message, from its SentTimestamp: a message a consumer holds in flight
// still ages (today's approximation, time since the queue was first seen
// with visible messages, drops to 0 as soon as nothing is visible).
func TestConformanceFaithfulAgeOfOldestMessageCountsFromSentTimestampInFlightIncluded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newMetricsFixture(t, "lrt-age")
	url, _ := createQueue(t, f.sqs, f.name+"-work", map[string]string{"VisibilityTimeout": "3600"})
	alarmName := f.name + "-oldest"
	f.putAlarm(&cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String(alarmName), Namespace: aws.String("AWS/SQS"), MetricName: aws.String("ApproximateAgeOfOldestMessage"),
		Dimensions: []cwtypes.Dimension{{Name: aws.String("QueueName"), Value: aws.String(f.name + "-work")}},
		Statistic:  cwtypes.StatisticMaximum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1),
		ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold, Threshold: aws.Float64(180),
		TreatMissingData: aws.String("notBreaching"), ActionsEnabled: aws.Bool(false),
	})
	_, err := f.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("stuck")})
	require.NoError(t, err)
	got, err := f.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), VisibilityTimeout: 3600})
	require.NoError(t, err)
	require.Len(t, got.Messages, 1, "the consumer holds it in flight: nothing is visible")

	f.start(Config{Functions: f.noFunctions(), AlarmNamePrefix: f.name, MetricMode: MetricModeFaithful, ClockScale: f.scale})
	eventually(t, f.minutes(10)+10*time.Second, func() bool { return f.alarm(alarmName).StateValue == cwtypes.StateValueAlarm },
		"the in-flight message's age passes 180 s")
	a := f.alarm(alarmName)
	var data struct{ RecentDatapoints []float64 }
	require.NoError(t, json.Unmarshal([]byte(aws.ToString(a.StateReasonData)), &data))
	require.Len(t, data.RecentDatapoints, 1)
	require.Greater(t, data.RecentDatapoints[0], 180.0)
}

// The product check. The DLQ alarm's handler samples the DLQ by receiving its
// messages, which hides them (visible → in flight) while it reads them. On
// AWS the DLQ's metrics are one datapoint a minute; when that datapoint
// lands while the handler samples, an alarm on
// ApproximateNumberOfMessagesVisible sees 0 and goes OK ("recovered") with
// every message still dead-lettered. The worst case — every datapoint lands
// while the messages are in flight — is held here; the DLQ alarm as
// terraform/modules/queue defines it (metric math: visible + not visible)
// stays in ALARM, the visible-only alarm it replaced goes OK.
func TestConformanceDLQAlarmStaysInAlarmWhileTheHandlerHasTheMessagesInFlight(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newMetricsFixture(t, "lrt-dlqalarm")
	dlq := f.name + "-dlq"
	url, _ := createQueue(t, f.sqs, dlq, nil)
	common := func(name string) *cloudwatch.PutMetricAlarmInput {
		return &cloudwatch.PutMetricAlarmInput{
			AlarmName: aws.String(name), EvaluationPeriods: aws.Int32(1),
			ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold, Threshold: aws.Float64(1),
			TreatMissingData: aws.String("notBreaching"), ActionsEnabled: aws.Bool(false),
		}
	}
	visibleOnly := common(f.name + "-visible-only")
	visibleOnly.Namespace, visibleOnly.MetricName = aws.String("AWS/SQS"), aws.String("ApproximateNumberOfMessagesVisible")
	visibleOnly.Dimensions = []cwtypes.Dimension{{Name: aws.String("QueueName"), Value: aws.String(dlq)}}
	visibleOnly.Statistic, visibleOnly.Period = cwtypes.StatisticMaximum, aws.Int32(60)
	f.putAlarm(visibleOnly)
	held := common(f.name + "-dlq-not-empty")
	held.Metrics = []cwtypes.MetricDataQuery{
		{Id: aws.String("messages"), Expression: aws.String("visible + in_flight"), Label: aws.String("messages in the DLQ"), ReturnData: aws.Bool(true)},
		sqsMetricStat("visible", "ApproximateNumberOfMessagesVisible", dlq),
		sqsMetricStat("in_flight", "ApproximateNumberOfMessagesNotVisible", dlq),
	}
	f.putAlarm(held)

	for _, b := range []string{"dead-1", "dead-2"} {
		_, err := f.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(b)})
		require.NoError(t, err)
	}
	f.start(Config{Functions: f.noFunctions(), AlarmNamePrefix: f.name, MetricMode: MetricModeFaithful, ClockScale: f.scale})
	for _, name := range []string{aws.ToString(visibleOnly.AlarmName), aws.ToString(held.AlarmName)} {
		eventually(t, f.minutes(5)+10*time.Second, func() bool { return f.alarm(name).StateValue == cwtypes.StateValueAlarm }, "%s in ALARM", name)
	}

	// The handler samples: both messages in flight from now on.
	got, err := f.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10, VisibilityTimeout: 3600})
	require.NoError(t, err)
	require.Len(t, got.Messages, 2)

	eventually(t, f.minutes(5)+10*time.Second, func() bool { return f.alarm(aws.ToString(visibleOnly.AlarmName)).StateValue == cwtypes.StateValueOk },
		"the visible-only alarm goes OK while the DLQ holds two messages")
	since := time.Now()
	for time.Since(since) < f.minutes(3) {
		require.Equal(t, cwtypes.StateValueAlarm, f.alarm(aws.ToString(held.AlarmName)).StateValue, "the DLQ alarm never goes OK while messages are dead-lettered")
		time.Sleep(f.minutes(0.1))
	}
	var data struct{ RecentDatapoints []float64 }
	require.NoError(t, json.Unmarshal([]byte(aws.ToString(f.alarm(aws.ToString(held.AlarmName)).StateReasonData)), &data))
	require.Equal(t, []float64{2}, data.RecentDatapoints)
}
