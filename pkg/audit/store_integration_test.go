//go:build integration

package audit_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/require"

	"github.com/offload/offload/internal/testenv"
	"github.com/offload/offload/pkg/audit"
)

// createArticleTable creates the article's AuditMessages schema under a unique name.
func createArticleTable(t *testing.T, client *dynamodb.Client) string {
	t.Helper()
	name := testenv.UniqueName("AuditMessages")
	testenv.CreateKeyTable(t, client, name, "messageId", "auditTime")
	return name
}

func TestIntegrationStoreAgainstTheArticleSchema(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	client := dynamodb.NewFromConfig(testenv.AWSConfig(t))
	table := createArticleTable(t, client)
	store := audit.NewStore(client, table)

	at := time.Date(2026, 11, 26, 23, 12, 43, 123456700, time.UTC)
	rec := audit.Record{Key: "m-1", KeySource: "producer", SQSMessageID: "sqs-1",
		Message: audit.Message{MessageID: "m-1", AuditText: "User 42 signed in", AuditTime: at}}

	out, err := store.Put(ctx, rec)
	require.NoError(t, err)
	require.Equal(t, audit.Created, out)

	rec.SQSMessageID = "sqs-2"
	out, err = store.Put(ctx, rec)
	require.NoError(t, err)
	require.Equal(t, audit.Duplicate, out)

	conflicting := rec
	conflicting.Message.AuditText = "User 42 signed out"
	out, err = store.Put(ctx, conflicting)
	require.NoError(t, err)
	require.Equal(t, audit.Conflict, out)

	items, err := client.Query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(table),
		KeyConditionExpression:    aws.String("messageId = :id"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":id": &types.AttributeValueMemberS{Value: "m-1"}},
	})
	require.NoError(t, err)
	require.Len(t, items.Items, 1, "one item whatever the deliveries")
	item := items.Items[0]
	require.Equal(t, "2026-11-26T23:12:43.1234567Z", item["auditTime"].(*types.AttributeValueMemberS).Value)
	require.Equal(t, "User 42 signed in", item["auditText"].(*types.AttributeValueMemberS).Value)
	require.Equal(t, "sqs-1", item["sqsMessageId"].(*types.AttributeValueMemberS).Value, "the first delivery's item is kept")
}
