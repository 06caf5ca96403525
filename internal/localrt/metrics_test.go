package localrt

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/stretchr/testify/require"

	"github.com/offload/offload/pkg/dlq"
)

// mathAlarm is the DLQ alarm as terraform/modules/queue defines it.
func mathAlarm() cwtypes.MetricAlarm {
	stat := func(id, metric string) cwtypes.MetricDataQuery {
		return cwtypes.MetricDataQuery{Id: aws.String(id), ReturnData: aws.Bool(false), MetricStat: &cwtypes.MetricStat{
			Metric: &cwtypes.Metric{Namespace: aws.String("AWS/SQS"), MetricName: aws.String(metric),
				Dimensions: []cwtypes.Dimension{{Name: aws.String("QueueName"), Value: aws.String("audit-dlq")}}},
			Period: aws.Int32(60), Stat: aws.String("Maximum"),
		}}
	}
	a := dlqAlarm("notBreaching", 1, 0)
	a.Namespace, a.MetricName, a.Dimensions, a.Statistic, a.Period = nil, nil, nil, "", nil
	a.Metrics = []cwtypes.MetricDataQuery{
		{Id: aws.String("messages"), Expression: aws.String("visible + in_flight"), ReturnData: aws.Bool(true)},
		stat("visible", "ApproximateNumberOfMessagesVisible"),
		stat("in_flight", "ApproximateNumberOfMessagesNotVisible"),
	}
	return a
}

func TestSpecOfReadsSingleMetricAndMetricMathAlarms(t *testing.T) {
	t.Parallel()
	s, ok := specOf(dlqAlarm("", 1, 0))
	require.True(t, ok)
	require.Equal(t, []sqsMetric{{name: "ApproximateNumberOfMessagesVisible", queue: "audit-dlq"}}, s.metrics)

	s, ok = specOf(mathAlarm())
	require.True(t, ok)
	require.Equal(t, []sqsMetric{
		{id: "visible", name: "ApproximateNumberOfMessagesVisible", queue: "audit-dlq"},
		{id: "in_flight", name: "ApproximateNumberOfMessagesNotVisible", queue: "audit-dlq"},
	}, s.metrics)
	require.Equal(t, cwtypes.StatisticMaximum, s.statistic)
	require.Equal(t, int32(60), s.period)

	other := mathAlarm()
	other.Metrics[0].Expression = aws.String("visible * 2")
	_, ok = specOf(other)
	require.False(t, ok, "only sums of AWS/SQS metrics are evaluated")
}

// The notification of a metric-math alarm carries Trigger.Metrics, and the
// dlq-alarm-handler still finds the queue in it.
func TestMetricMathAlarmMessageNamesTheQueue(t *testing.T) {
	t.Parallel()
	_, p := alarmPayload(t, mathAlarm(), "Threshold Crossed", time.Now())
	require.Len(t, p.Trigger.Metrics, 3)
	require.Empty(t, p.Trigger.MetricName)
	a, err := dlq.FromSNSPayload(p)
	require.NoError(t, err)
	require.Equal(t, "audit-dlq", a.QueueName())
}
