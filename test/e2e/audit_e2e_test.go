//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/require"

	"github.com/offload/offload/internal/testenv"
	"github.com/offload/offload/pkg/audit"
	"github.com/offload/offload/pkg/batch"
	"github.com/offload/offload/pkg/message"
	"github.com/offload/offload/pkg/producer"
)

// The article's pipeline, end to end: 100 audit messages — 95 ordinary ones,
// a producer retry (one messageId sent twice as two SQS messages), one whose
// first delivery times out after its item was written (a forced redelivery),
// one malformed body and one payload exactly as a .NET producer sends it —
// give exactly 98 items with the right contents, the malformed one in the DLQ
// with its reason, and no successful message delivered twice because of it.
func TestAuditPipelineHundredMessages(t *testing.T) {
	t.Parallel()
	stack.SkipUnlessLocal(t, "the forced redelivery is injected by the local emulator")
	ctx := context.Background()
	run := stack.Unique("audit100")
	at := time.Now().UTC().Truncate(time.Microsecond)
	pub, err := producer.New(stack.SQS, stack.Outputs.AuditQueueURL, producer.WithDefaultType(message.TypeAudit, "1"))
	require.NoError(t, err)

	want := map[string]audit.Message{} // messageId -> what the table must hold
	var msgs []producer.Message
	for i := range 95 {
		m := audit.Message{MessageID: fmt.Sprintf("%s-%02d", run, i), AuditText: fmt.Sprintf("%s user %d signed in", run, i), AuditTime: at.Add(time.Duration(i) * time.Millisecond)}
		want[m.MessageID] = m
		msgs = append(msgs, auditMessage(t, m))
	}
	results, err := pub.PublishBatch(ctx, msgs)
	require.NoError(t, err)
	require.Len(t, results, 95)
	sqsIDs := map[string]string{} // messageId -> SQS MessageId of its only delivery
	for i, r := range results {
		require.NoError(t, r.Err)
		sqsIDs[msgs[i].IdempotencyKey] = r.MessageID
	}

	// A producer retry: the same record, twice, as two SQS messages.
	dup := audit.Message{MessageID: run + "-dup", AuditText: run + " order shipped", AuditTime: at}
	want[dup.MessageID] = dup
	for range 2 {
		_, err := pub.Publish(ctx, auditMessage(t, dup))
		require.NoError(t, err)
	}

	// A forced redelivery: the first write succeeds, but its answer comes back
	// only after the function's deadline, so SQS delivers the message again.
	redeliver := audit.Message{MessageID: run + "-redeliver", AuditText: run + " password changed", AuditTime: at}
	want[redeliver.MessageID] = redeliver
	testenv.MustInjectFault(t, testenv.Fault{Service: "dynamodb", Operation: "PutItem", Match: redeliver.MessageID, DelayAfterSeconds: 4})
	_, err = pub.Publish(ctx, auditMessage(t, redeliver))
	require.NoError(t, err)

	// A .NET producer (Newtonsoft.Json): no messageId, 7 digits, an offset, no attributes.
	dotnetText := run + " report exported"
	dotnetBody := `{"auditText":"` + dotnetText + `","auditTime":"` + at.In(time.FixedZone("", 2*3600)).Format("2006-01-02T15:04:05.0000000-07:00") + `"}`
	dotnetSQSID := stack.Send(t, stack.Outputs.AuditQueueURL, dotnetBody)
	want[dotnetSQSID] = audit.Message{AuditText: dotnetText, AuditTime: at}

	malformed := `{"auditText": "` + run + ` truncated`
	malformedID := stack.Send(t, stack.Outputs.AuditQueueURL, malformed)

	// Exactly the expected items, with their contents.
	for id, m := range want {
		stack.WaitForItem(t, stack.Outputs.AuditTableName, "messageId", id, 90*time.Second)
		out, err := stack.DynamoDB.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(stack.Outputs.AuditTableName),
			KeyConditionExpression:    aws.String("messageId = :id"),
			ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":id": &ddbtypes.AttributeValueMemberS{Value: id}}})
		require.NoError(t, err)
		require.Len(t, out.Items, 1, "one item for %s", id)
		item := out.Items[0]
		require.Equal(t, m.AuditText, s(item["auditText"]), id)
		require.Equal(t, audit.FormatTime(m.AuditTime), s(item["auditTime"]), id)
	}
	require.Len(t, want, 98)
	require.Equal(t, "sqs", s(stack.WaitForItem(t, stack.Outputs.AuditTableName, "messageId", dotnetSQSID, time.Second)["keySource"]))

	// The malformed one is in the DLQ, with its reason, once.
	dead := stack.WaitForDLQMessage(t, stack.Outputs.AuditDLQURL, func(b string) bool { return b == malformed }, 60*time.Second)
	require.Equal(t, message.ClassDecode, aws.ToString(dead.MessageAttributes[message.AttrFailureClass].StringValue))
	require.Contains(t, aws.ToString(dead.MessageAttributes[message.AttrFailureReason].StringValue), "decode audit message")
	require.Equal(t, malformedID, aws.ToString(dead.MessageAttributes[message.AttrOriginalMessageID].StringValue))
	require.Equal(t, "1", aws.ToString(dead.MessageAttributes[message.AttrReceiveCount].StringValue), "dead-lettered on its first delivery, not retried")
	stack.WaitForQueueEmpty(t, stack.Outputs.AuditQueueURL, 60*time.Second)

	// What the function saw: every ordinary message once, on its first
	// delivery; the redelivered one twice; the duplicate counted, not stored.
	successes := map[string][]int{}
	var duplicates []string
	for _, l := range functionLogs(t, "audit-receiver") {
		if l.str("outcome") == batch.OutcomeSuccess {
			rc, _ := strconv.Atoi(fmt.Sprint(l["receive_count"]))
			successes[l.str("message_id")] = append(successes[l.str("message_id")], rc)
		}
		if l.str("write") == "duplicate" {
			duplicates = append(duplicates, l.str("audit_id"))
		}
	}
	for key, id := range sqsIDs {
		require.Equal(t, []int{1}, successes[id], "%s (SQS %s) processed once, first time", key, id)
	}
	require.ElementsMatch(t, []string{dup.MessageID, redeliver.MessageID}, filter(duplicates, func(k string) bool { return k == dup.MessageID || k == redeliver.MessageID }))
	require.Equal(t, []int{1}, successes[dotnetSQSID])
}

func auditMessage(t *testing.T, m audit.Message) producer.Message {
	t.Helper()
	b, err := json.Marshal(m)
	require.NoError(t, err)
	return producer.Message{Body: string(b), IdempotencyKey: m.MessageID}
}

func s(v ddbtypes.AttributeValue) string {
	if sv, ok := v.(*ddbtypes.AttributeValueMemberS); ok {
		return sv.Value
	}
	return ""
}

func filter[T any](in []T, keep func(T) bool) []T {
	var out []T
	for _, v := range in {
		if keep(v) {
			out = append(out, v)
		}
	}
	return out
}
