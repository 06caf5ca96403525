//go:build integration

package idempotency_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/require"

	"github.com/offload/offload/internal/testenv"
	"github.com/offload/offload/pkg/idempotency"
	"github.com/offload/offload/pkg/idempotency/idempotencytest"
)

// newTable makes a table with a string partition key and TTL on expires_at,
// as the Terraform table module does, deletes it after the test, and returns
// a client for the emulator with it.
func newTable(t testing.TB, keyAttr string) (*dynamodb.Client, string) {
	t.Helper()
	client := dynamodb.NewFromConfig(testenv.AWSConfig(t))
	ctx := context.Background()
	name := testenv.UniqueName("idem")
	testenv.CreateKeyTable(t, client, name, keyAttr)
	_, err := client.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName:               &name,
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String("expires_at"), Enabled: aws.Bool(true)},
	})
	require.NoError(t, err)
	return client, name
}

func TestIntegrationDynamoDBConformance(t *testing.T) {
	t.Parallel()
	client, table := newTable(t, "id")
	idempotencytest.Run(t, func(t *testing.T, now func() time.Time) idempotency.Store {
		s, err := idempotency.NewDynamoDB(client, table, idempotency.WithClock(now), idempotency.WithRetention(idempotencytest.Retention))
		require.NoError(t, err)
		return s
	})
}

func TestIntegrationDynamoDBItemShape(t *testing.T) {
	t.Parallel()
	client, table := newTable(t, "requestId")
	clock := idempotencytest.NewClock()
	s, err := idempotency.NewDynamoDB(client, table, idempotency.WithKeyAttribute("requestId"),
		idempotency.WithClock(clock.Now), idempotency.WithRetention(48*time.Hour))
	require.NoError(t, err)
	ctx := context.Background()
	out, err := s.Begin(ctx, "sms-req-1", idempotency.HashPayload([]byte("body")), time.Minute)
	require.NoError(t, err)
	require.Equal(t, idempotency.StatusAcquired, out.Status)
	require.NoError(t, s.Complete(ctx, "sms-req-1", out.Token, []byte("provider-id-7")))

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

// lossyStore is a store on a new table whose client gives up on an answer
// after a second and retries, as the SDK does in production.
func lossyStore(t *testing.T) *idempotency.DynamoDBStore {
	t.Helper()
	cfg := testenv.AWSConfig(t)
	cfg.HTTPClient = awshttp.NewBuildableClient().WithTimeout(time.Second)
	_, table := newTable(t, "id")
	s, err := idempotency.NewDynamoDB(dynamodb.NewFromConfig(cfg), table)
	require.NoError(t, err)
	return s
}

// TestIntegrationDynamoDBBeginWhoseAnswerIsLostHoldsTheKey: the claim
// commits, the emulator holds its answer past the client's timeout, the SDK
// retries and the retry fails the condition on the claim's own record. Begin
// must see its own token and hold the key, not report it in progress (which
// ends, after the lease, as "may have been sent" although nothing was).
func TestIntegrationDynamoDBBeginWhoseAnswerIsLostHoldsTheKey(t *testing.T) {
	t.Parallel()
	s := lossyStore(t)
	ctx := context.Background()
	key := testenv.UniqueName("lost-begin")
	f := testenv.MustInjectFault(t, testenv.Fault{Service: "dynamodb", Operation: "PutItem", Match: key, DelayAfterSeconds: 3})

	out, err := s.Begin(ctx, key, "h1", time.Minute)
	require.NoError(t, err)
	require.Equal(t, idempotency.StatusAcquired, out.Status, "its own claim, not someone else's")
	require.Equal(t, 1, out.Attempt)
	fired, err := testenv.Fired(testenv.Endpoint(t), f.ID)
	require.NoError(t, err)
	require.Equal(t, 1, fired, "the first answer was lost")

	other, err := s.Begin(ctx, key, "h1", time.Minute)
	require.NoError(t, err)
	require.Equal(t, idempotency.StatusInProgress, other.Status, "anyone else still sees it in progress")
	require.NoError(t, s.Complete(ctx, key, out.Token, []byte("done")))
	done, err := s.Begin(ctx, key, "h1", time.Minute)
	require.NoError(t, err)
	require.Equal(t, idempotency.StatusCompleted, done.Status)
}

// TestIntegrationDynamoDBFinishWhoseAnswerIsLostIsDone: a Release and a
// Complete that commit but whose answers are lost; the SDK's retries fail the
// condition. The repeat is recognised as this attempt's and succeeds, and the
// records say released (acquirable) and completed.
func TestIntegrationDynamoDBFinishWhoseAnswerIsLostIsDone(t *testing.T) {
	t.Parallel()
	s := lossyStore(t)
	ctx := context.Background()
	key := testenv.UniqueName("lost-finish")

	held, err := s.Begin(ctx, key, "h1", time.Minute)
	require.NoError(t, err)
	release := testenv.MustInjectFault(t, testenv.Fault{Service: "dynamodb", Operation: "UpdateItem", Match: key, DelayAfterSeconds: 3})
	require.NoError(t, s.Release(ctx, key, held.Token), "released, though the first answer was lost")
	fired, err := testenv.Fired(testenv.Endpoint(t), release.ID)
	require.NoError(t, err)
	require.Equal(t, 1, fired)

	again, err := s.Begin(ctx, key, "h1", time.Minute)
	require.NoError(t, err)
	require.Equal(t, idempotency.StatusAcquired, again.Status, "a released record says not done: the next Begin takes it")
	testenv.MustInjectFault(t, testenv.Fault{Service: "dynamodb", Operation: "UpdateItem", Match: key, DelayAfterSeconds: 3})
	require.NoError(t, s.Complete(ctx, key, again.Token, []byte("r")))
	require.ErrorIs(t, s.Release(ctx, key, held.Token), idempotency.ErrNotHeld, "the first attempt holds nothing")
	done, err := s.Begin(ctx, key, "h1", time.Minute)
	require.NoError(t, err)
	require.Equal(t, idempotency.StatusCompleted, done.Status)
	require.Equal(t, []byte("r"), done.Result)
}

// TestIntegrationDynamoDBStaleHolderIsFencedOut: the conditional writes carry
// the token, so a holder whose lease was taken over changes nothing.
func TestIntegrationDynamoDBStaleHolderIsFencedOut(t *testing.T) {
	t.Parallel()
	client, table := newTable(t, "id")
	clock := idempotencytest.NewClock()
	s, err := idempotency.NewDynamoDB(client, table, idempotency.WithClock(clock.Now))
	require.NoError(t, err)
	ctx := context.Background()
	stale, err := s.Begin(ctx, "k", "h1", time.Minute)
	require.NoError(t, err)
	clock.Advance(time.Minute + time.Second)
	current, err := s.Begin(ctx, "k", "h1", time.Minute)
	require.NoError(t, err)
	require.Equal(t, idempotency.StatusLeaseExpired, current.Status)
	require.ErrorIs(t, s.Release(ctx, "k", stale.Token), idempotency.ErrLeaseLost)
	got, err := client.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: map[string]types.AttributeValue{
		"id": &types.AttributeValueMemberS{Value: "k"}}, ConsistentRead: aws.Bool(true)})
	require.NoError(t, err)
	require.Equal(t, "in_progress", got.Item["status"].(*types.AttributeValueMemberS).Value)
	require.Equal(t, current.Token, got.Item["attempt_token"].(*types.AttributeValueMemberS).Value)
}

// The cost of the start mark: one more conditional UpdateItem per send.
// go test -tags integration -run '^$' -bench IntegrationDynamoDBSend ./pkg/idempotency/
func benchmarkSend(b *testing.B, start bool) {
	client, table := newTable(b, "id")
	s, err := idempotency.NewDynamoDB(client, table)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	prefix := testenv.UniqueName("bench")
	i := 0
	for b.Loop() {
		i++
		key := prefix + strconv.Itoa(i)
		out, err := s.Begin(ctx, key, "h", time.Minute, idempotency.DeferStart())
		if err != nil {
			b.Fatal(err)
		}
		if start {
			if err := s.Start(ctx, key, out.Token); err != nil {
				b.Fatal(err)
			}
		}
		if err := s.Complete(ctx, key, out.Token, []byte("r")); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkIntegrationDynamoDBSendWithoutStart(b *testing.B) { benchmarkSend(b, false) }
func BenchmarkIntegrationDynamoDBSendWithStart(b *testing.B)    { benchmarkSend(b, true) }
