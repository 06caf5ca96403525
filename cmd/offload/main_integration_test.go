//go:build integration

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/require"

	"github.com/offload/offload/internal/testenv"
	"github.com/offload/offload/pkg/audit"
	"github.com/offload/offload/pkg/message"
)

// env builds a miniature environment in the emulator and the outputs file
// that names it, as `make run` would.
func env(t *testing.T) (string, *sqs.Client, map[string]string) {
	t.Helper()
	ctx := context.Background()
	cfg := testenv.AWSConfig(t)
	client := sqs.NewFromConfig(cfg)
	prefix := testenv.UniqueName("cli")
	out := map[string]string{}
	for _, q := range []string{"audit", "audit-dlq", "sms", "sms-dlq"} {
		res, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(prefix + "-" + q)})
		require.NoError(t, err)
		arn, err := queueARN(ctx, client, *res.QueueUrl)
		require.NoError(t, err)
		key := strings.ReplaceAll(q, "-", "_")
		if !strings.HasSuffix(key, "_dlq") {
			key += "_queue"
		}
		out[key+"_url"], out[key+"_arn"] = *res.QueueUrl, arn
	}
	ddb := dynamodb.NewFromConfig(cfg)
	table := prefix + "-AuditMessages"
	testenv.CreateKeyTable(t, ddb, table, "messageId", "auditTime")
	out["audit_table_name"] = table
	tf := map[string]map[string]string{}
	for k, v := range out {
		tf[k] = map[string]string{"value": v, "type": "string"}
	}
	b, err := json.Marshal(tf)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "outputs.json")
	require.NoError(t, os.WriteFile(path, b, 0o600))
	return path, client, out
}

func receiveAll(t *testing.T, client *sqs.Client, url string) []types.Message {
	t.Helper()
	var all []types.Message
	for {
		res, err := client.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10,
			WaitTimeSeconds: 1, MessageAttributeNames: []string{"All"}})
		require.NoError(t, err)
		if len(res.Messages) == 0 {
			return all
		}
		all = append(all, res.Messages...)
	}
}

func TestIntegrationSendAuditAndSMS(t *testing.T) {
	t.Parallel()
	path, client, out := env(t)
	stdout, _, err := run(t, "--outputs", path, "send", "audit", "--text", "deploy finished", "--id", "cli-1", "--time", "2026-11-26T23:12:43.1234567Z")
	require.NoError(t, err)
	require.Contains(t, stdout, "sent audit record cli-1")

	msgs := receiveAll(t, client, out["audit_queue_url"])
	require.Len(t, msgs, 1)
	m, err := audit.Decode([]byte(*msgs[0].Body))
	require.NoError(t, err)
	require.Equal(t, "cli-1", m.MessageID)
	require.Equal(t, "deploy finished", m.AuditText)
	require.Equal(t, "2026-11-26T23:12:43.1234567Z", audit.FormatTime(m.AuditTime))
	require.Equal(t, "cli-1", *msgs[0].MessageAttributes[message.AttrIdempotencyKey].StringValue)
	require.Equal(t, "audit", *msgs[0].MessageAttributes[message.AttrType].StringValue)

	stdout, _, err = run(t, "--outputs", path, "send", "sms", "--to", "07400 123456", "--region", "GB", "--body", "hello", "--id", "r-9")
	require.NoError(t, err)
	require.Contains(t, stdout, "+44********56")
	require.NotContains(t, stdout, "7400123456")
	msgs = receiveAll(t, client, out["sms_queue_url"])
	require.Len(t, msgs, 1)
	require.JSONEq(t, `{"requestId":"r-9","to":"+447400123456","body":"hello"}`, *msgs[0].Body)
}

func TestIntegrationPeekThenRedriveThenAuditGet(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path, client, out := env(t)
	for i := range 4 {
		_, err := client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(out["audit_dlq_url"]), MessageBody: aws.String(fmt.Sprintf(`{"n":%d}`, i)),
			MessageAttributes: map[string]types.MessageAttributeValue{message.AttrFailureReason: {DataType: aws.String("String"), StringValue: aws.String("auditText is empty (for +447700900089, token=abc123)")}}})
		require.NoError(t, err)
	}
	stdout, _, err := run(t, "--outputs", path, "dlq", "peek", "audit", "-n", "3")
	require.NoError(t, err)
	require.Contains(t, stdout, "4 message(s) waiting")
	require.Equal(t, 3, strings.Count(stdout, "auditText is empty"), stdout)
	// Masked as the functions' logs are (pkg/logging).
	require.Equal(t, 3, strings.Count(stdout, "for +44********89, token=[REDACTED]"), stdout)
	require.NotContains(t, stdout, "abc123")

	stdout, stderr, err := run(t, "--outputs", path, "dlq", "redrive", "audit", "--rate", "50")
	require.NoError(t, err)
	require.Contains(t, stdout, "moved 4 message(s)")
	require.Contains(t, stderr, "4/4 moved (mover)")
	require.Len(t, receiveAll(t, client, out["audit_queue_url"]), 4)
	require.Empty(t, receiveAll(t, client, out["audit_dlq_url"]))

	// Resolving by URL, with no source known, asks for --to.
	_, _, err = run(t, "--outputs", path, "dlq", "redrive", out["sms_dlq_url"])
	require.ErrorContains(t, err, "--to URL")

	_, err = dynamodb.NewFromConfig(testenv.AWSConfig(t)).PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(out["audit_table_name"]),
		Item: map[string]ddbtypes.AttributeValue{"messageId": &ddbtypes.AttributeValueMemberS{Value: "a-1"}, "auditTime": &ddbtypes.AttributeValueMemberS{Value: "2026-11-26T23:12:43.1234567Z"}, "auditText": &ddbtypes.AttributeValueMemberS{Value: "x"}}})
	require.NoError(t, err)
	stdout, _, err = run(t, "--outputs", path, "audit", "get", "a-1")
	require.NoError(t, err)
	require.JSONEq(t, `{"messageId":"a-1","auditTime":"2026-11-26T23:12:43.1234567Z","auditText":"x"}`, strings.TrimSpace(stdout))
	_, _, err = run(t, "--outputs", path, "audit", "get", "missing")
	require.ErrorContains(t, err, "no audit item")
}
