//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/require"

	"github.com/offload/offload/internal/testenv"
	"github.com/offload/offload/pkg/audit"
	"github.com/offload/offload/pkg/message"
	"github.com/offload/offload/test/harness"
)

// From a poisoned message to a fixed queue without the console: an audit
// record whose write is throttled every time dies after maxReceiveCount
// deliveries; the DLQ alarm fires; the handler's notification names the
// message and why it died; `offload dlq redrive` puts it back exactly once;
// with the cause fixed it is stored; the alarm recovers.
//
// Not parallel: it redrives the whole audit DLQ, so it runs before the
// parallel suites put their own dead letters there.
func TestPoisonMessageToAlarmToRedrive(t *testing.T) {
	stack.SkipUnlessLocal(t, "the cause (a throttled table) is injected by the local emulator")
	notes := stack.SubscribeQueueToTopic(t, stack.Outputs.NotificationsTopicARN)
	key := stack.Unique("poison")
	body, err := json.Marshal(audit.Message{MessageID: key, AuditText: "poisoned by throttling", AuditTime: time.Now().UTC()})
	require.NoError(t, err)
	cause := testenv.MustInjectFault(t, testenv.Fault{Service: "dynamodb", Operation: "PutItem", Match: key, Count: -1,
		Error: &testenv.FaultError{Status: 400, Code: "ProvisionedThroughputExceededException", Message: "throttled"}})
	id := stack.Send(t, stack.Outputs.AuditQueueURL, string(body))

	// On its last allowed receive (MAX_RECEIVE_COUNT, the queue's
	// maxReceiveCount) the batch processor dead-letters it with its reason,
	// rather than leaving SQS to move it bare on the next receive.
	dead := stack.WaitForDLQMessage(t, stack.Outputs.AuditDLQURL, func(b string) bool { return b == string(body) }, 2*time.Minute)
	attr := func(name string) string { return aws.ToString(dead.MessageAttributes[name].StringValue) }
	require.Equal(t, id, attr(message.AttrOriginalMessageID), "names the message it was on the audit queue")
	require.Equal(t, message.ClassRetriesExhausted, attr(message.AttrFailureClass))
	// The reason names the record and its last error (the SDK's retries of
	// the throttled write, or the deadline that cut them).
	require.Contains(t, attr(message.AttrFailureReason), "on receive 3, the queue's last: put audit "+key)
	receives, _ := strconv.Atoi(attr(message.AttrReceiveCount))
	require.Equal(t, 3, receives, "delivered maxReceiveCount times first")

	// The alarm fires and the handler says which message died and why.
	dlqName := stack.Outputs.AuditDLQURL[strings.LastIndex(stack.Outputs.AuditDLQURL, "/")+1:]
	var got struct {
		Kind, State, Queue string
		Count              int `json:"messageCount"`
		Messages           []struct{ MessageID, Reason string }
	}
	notes.WaitForNotification(t, func(n harness.Notification) bool {
		if json.Unmarshal([]byte(n.Message), &got) != nil || got.Kind != "offload.dlq-alarm" || got.State != "ALARM" {
			return false
		}
		for _, m := range got.Messages {
			if m.MessageID == aws.ToString(dead.MessageId) {
				return true
			}
		}
		return false
	}, 2*time.Minute)
	require.Equal(t, dlqName, got.Queue)
	require.GreaterOrEqual(t, got.Count, 1)
	for _, m := range got.Messages {
		if m.MessageID == aws.ToString(dead.MessageId) {
			require.Contains(t, m.Reason, "put audit "+key)
		}
	}

	// Fix the cause, then redrive with the ops CLI: every message back once.
	require.NoError(t, testenv.RemoveFault(testenv.Endpoint(t), cause.ID))
	before := visibleCount(t, stack.Outputs.AuditDLQURL)
	require.GreaterOrEqual(t, before, 1)
	out := runCLI(t, "dlq", "redrive", "audit", "--rate", "20")
	require.Contains(t, out, "moved "+strconv.Itoa(before)+" message(s)")
	require.Equal(t, 0, visibleCount(t, stack.Outputs.AuditDLQURL))

	item := stack.WaitForItem(t, stack.Outputs.AuditTableName, "messageId", key, time.Minute)
	require.Equal(t, "poisoned by throttling", s(item["auditText"]))
	stack.WaitForQueueEmpty(t, stack.Outputs.AuditQueueURL, time.Minute)
	// Exactly once: a second delivery would have been logged as a duplicate write.
	for _, l := range functionLogs(t, "audit-receiver") {
		require.False(t, l.str("audit_id") == key && l.str("write") == "duplicate", "redriven twice: %v", l)
	}

	// The alarm recovers and says so.
	notes.WaitForNotification(t, func(n harness.Notification) bool {
		var r struct{ Kind, State, Alarm string }
		return json.Unmarshal([]byte(n.Message), &r) == nil && r.Kind == "offload.dlq-alarm" && r.State == "OK" &&
			r.Alarm == stack.Outputs.DLQAlarmNames["audit"]
	}, 2*time.Minute)
}

func visibleCount(t *testing.T, url string) int {
	t.Helper()
	out, err := stack.SQS.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
	require.NoError(t, err)
	v, _ := strconv.Atoi(out.Attributes["ApproximateNumberOfMessages"])
	nv, _ := strconv.Atoi(out.Attributes["ApproximateNumberOfMessagesNotVisible"])
	return v + nv
}

// runCLI builds cmd/offload once and runs it against the stack's outputs.
func runCLI(t *testing.T, args ...string) string {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "offload")
	build := exec.Command("go", "build", "-o", bin, "github.com/offload/offload/cmd/offload")
	if outp, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build cmd/offload: %v\n%s", err, outp)
	}
	wrapped := map[string]map[string]json.RawMessage{}
	for k, v := range stack.Outputs.Raw {
		wrapped[k] = map[string]json.RawMessage{"value": v}
	}
	b, err := json.Marshal(wrapped)
	require.NoError(t, err)
	outputs := filepath.Join(dir, "outputs.json")
	require.NoError(t, os.WriteFile(outputs, b, 0o600))
	cmd := exec.Command(bin, append([]string{"--outputs", outputs}, args...)...)
	cmd.Env = os.Environ()
	outp, err := cmd.CombinedOutput()
	require.NoError(t, err, "offload %s:\n%s", strings.Join(args, " "), outp)
	t.Logf("offload %s:\n%s", strings.Join(args, " "), outp)
	return string(outp)
}
