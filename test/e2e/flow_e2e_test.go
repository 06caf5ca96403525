//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/require"

	"github.com/offload/offload/internal/localrt"
	"github.com/offload/offload/test/harness"
)

// timeout for a flow: seconds locally, minutes for a real alarm period.
func timeout(local, aws time.Duration) time.Duration {
	if stack.Target == harness.TargetAWS {
		return aws
	}
	return local
}

// An audit message sent to the queue ends as one item in the audit table.
func TestAuditMessageEndsInTheTable(t *testing.T) {
	t.Parallel()
	text := "e2e audit " + stack.Unique("audit")
	body, err := json.Marshal(map[string]string{"auditText": text, "auditTime": time.Now().UTC().Format(time.RFC3339Nano)})
	require.NoError(t, err)
	id := stack.Send(t, stack.Outputs.AuditQueueURL, string(body))

	item := stack.WaitForItem(t, stack.Outputs.AuditTableName, "messageId", id, timeout(30*time.Second, 2*time.Minute))
	require.Equal(t, &ddbtypes.AttributeValueMemberS{Value: text}, item["auditText"])
	stack.WaitForQueueEmpty(t, stack.Outputs.AuditQueueURL, timeout(30*time.Second, 2*time.Minute))
}

// A message that can never be processed is dead-lettered, the DLQ alarm goes
// to ALARM, and its notification reaches the alarm topic's subscribers with
// CloudWatch's payload.
func TestDeadLetterRaisesTheDLQAlarm(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	alarmName := stack.Outputs.DLQAlarmNames["audit"]
	require.NotEmpty(t, alarmName, "outputs name the audit DLQ alarm")
	cw := cloudwatch.NewFromConfig(stack.Config, localrt.CloudWatchQueryProtocol)
	before, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{alarmName}})
	require.NoError(t, err)
	require.Len(t, before.MetricAlarms, 1)
	sub := stack.SubscribeQueueToTopic(t, stack.Outputs.AlarmTopicARN)

	poison := "not an audit message " + stack.Unique("poison")
	stack.Send(t, stack.Outputs.AuditQueueURL, poison)
	isPoison := func(body string) bool { return strings.Contains(body, poison) }
	stack.WaitForDLQMessage(t, stack.Outputs.AuditDLQURL, isPoison, timeout(90*time.Second, 5*time.Minute))
	t.Cleanup(func() { stack.DeleteMessage(t, stack.Outputs.AuditDLQURL, isPoison, time.Minute) })

	if before.MetricAlarms[0].StateValue != cwtypes.StateValueAlarm {
		n := sub.WaitForNotification(t, func(n harness.Notification) bool {
			var p events.CloudWatchAlarmSNSPayload
			return json.Unmarshal([]byte(n.Message), &p) == nil && p.AlarmName == alarmName && p.NewStateValue == "ALARM"
		}, timeout(60*time.Second, 5*time.Minute))
		var p events.CloudWatchAlarmSNSPayload
		require.NoError(t, json.Unmarshal([]byte(n.Message), &p))
		require.Len(t, p.Trigger.Metrics, 3, "metric math: visible + in flight")
		for _, m := range p.Trigger.Metrics {
			if m.MetricStat.Metric.MetricName != "" {
				require.Equal(t, "AWS/SQS", m.MetricStat.Metric.Namespace)
			}
		}
		require.Equal(t, stack.Outputs.AlarmTopicARN, n.TopicArn)
	}
	now, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{alarmName}})
	require.NoError(t, err)
	require.Equal(t, cwtypes.StateValueAlarm, now.MetricAlarms[0].StateValue)
}
