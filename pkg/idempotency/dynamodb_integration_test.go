//go:build integration

package idempotency_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/require"

	"github.com/offload/offload/internal/testenv"
	"github.com/offload/offload/pkg/idempotency"
	"github.com/offload/offload/pkg/idempotency/idempotencytest"
)

// createTable makes a table with a string partition key and TTL on expires_at,
// as the Terraform table module does, and deletes it after the test.
func createTable(t *testing.T, client *dynamodb.Client, keyAttr string) string {
	t.Helper()
	ctx := context.Background()
	name := testenv.UniqueName("idem")
	_, err := client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            &name,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: &keyAttr, AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: &keyAttr, KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = client.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: &name}) })
	_, err = client.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName:               &name,
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String("expires_at"), Enabled: aws.Bool(true)},
	})
	require.NoError(t, err)
	return name
}

func TestIntegrationDynamoDBConformance(t *testing.T) {
	t.Parallel()
	client := dynamodb.NewFromConfig(testenv.AWSConfig(t))
	table := createTable(t, client, "id")
	idempotencytest.Run(t, func(t *testing.T, now func() time.Time) idempotency.Store {
		s, err := idempotency.NewDynamoDB(client, table, idempotency.WithClock(now), idempotency.WithRetention(idempotencytest.Retention))
		require.NoError(t, err)
		return s
	})
}

func TestIntegrationDynamoDBItemShape(t *testing.T) {
	t.Parallel()
	client := dynamodb.NewFromConfig(testenv.AWSConfig(t))
	table := createTable(t, client, "requestId")
	clock := idempotencytest.NewClock()
	s, err := idempotency.NewDynamoDB(client, table, idempotency.WithKeyAttribute("requestId"),
		idempotency.WithClock(clock.Now), idempotency.WithRetention(48*time.Hour))
	require.NoError(t, err)
	ctx := context.Background()
	out, err := s.Begin(ctx, "sms-req-1", idempotency.HashPayload([]byte("body")), time.Minute)
	require.NoError(t, err)
	require.Equal(t, idempotency.StatusAcquired, out.Status)
	require.NoError(t, s.Complete(ctx, "sms-req-1", []byte("provider-id-7")))

	got, err := client.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: map[string]types.AttributeValue{
		"requestId": &types.AttributeValueMemberS{Value: "sms-req-1"},
	}, ConsistentRead: aws.Bool(true)})
	require.NoError(t, err)
	item := got.Item
	require.Equal(t, "completed", item["status"].(*types.AttributeValueMemberS).Value)
	require.Equal(t, idempotency.HashPayload([]byte("body")), item["payload_hash"].(*types.AttributeValueMemberS).Value)
	require.Equal(t, []byte("provider-id-7"), item["result"].(*types.AttributeValueMemberB).Value)
	require.Equal(t, strconv.FormatInt(clock.Now().Add(48*time.Hour).Unix(), 10), item["expires_at"].(*types.AttributeValueMemberN).Value,
		"the TTL attribute is the retention from the last write, in unix seconds")
	require.NotContains(t, item, "lease_until", "a finished record holds no lease")

	ttl, err := client.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: &table})
	require.NoError(t, err)
	require.Equal(t, "expires_at", aws.ToString(ttl.TimeToLiveDescription.AttributeName))
}
