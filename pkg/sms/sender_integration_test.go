//go:build integration

package sms_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/require"

	"github.com/offload/offload/internal/testenv"
	"github.com/offload/offload/pkg/idempotency"
	"github.com/offload/offload/pkg/idempotency/idempotencytest"
	"github.com/offload/offload/pkg/sms"
)

// countingProvider accepts every text and counts them per request id.
type countingProvider struct {
	mu   sync.Mutex
	sent map[string]int
}

func (p *countingProvider) Name() string { return "fake" }

func (p *countingProvider) Send(_ context.Context, m sms.Request) (sms.Receipt, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sent[m.RequestID]++
	return sms.Receipt{Provider: "fake", ID: "p-" + m.RequestID}, nil
}

func (p *countingProvider) count(id string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sent[id]
}

// TestIntegrationReleaseThatCannotBeWrittenThenTheRedeliverySendsOnce: a
// request is claimed, then not sent (no send slot before its deadline), and
// its Release fails every time (the emulator answers every release write of
// the key with a 500). After the lease the redelivery must find a record that
// says "not started" and send it exactly once. Before the start mark, the
// record stayed in_progress and the redelivery dead-lettered it as an
// unknown outcome although nothing was ever sent.
func TestIntegrationReleaseThatCannotBeWrittenThenTheRedeliverySendsOnce(t *testing.T) {
	t.Parallel()
	client := dynamodb.NewFromConfig(testenv.AWSConfig(t))
	table := testenv.UniqueName("smsidem")
	testenv.CreateKeyTable(t, client, table, "id")
	clock := idempotencytest.NewClock()
	store, err := idempotency.NewDynamoDB(client, table, idempotency.WithClock(clock.Now))
	require.NoError(t, err)
	p := &countingProvider{sent: map[string]int{}}
	ctx := context.Background()

	// One send slot per 100 s: the first request takes it, the second cannot
	// get one before its deadline and is released without being sent.
	limited, err := sms.NewSender(p, store, sms.WithRate(0.01), sms.WithSendTimeout(time.Second, 0), sms.WithLease(time.Second, time.Minute))
	require.NoError(t, err)
	_, err = limited.Send(ctx, sms.Request{RequestID: testenv.UniqueName("slot"), To: "+447700900123", Body: "first"})
	require.NoError(t, err)

	r := sms.Request{RequestID: testenv.UniqueName("unreleasable"), To: "+447700900124", Body: "Your code is 123456"}
	f := testenv.MustInjectFault(t, testenv.Fault{Service: "dynamodb", Operation: "UpdateItem", Match: r.RequestID + `"`, Also: []string{`{"S":"released"}`},
		Count: -1, Error: &testenv.FaultError{Status: 500, Code: "InternalServerError", Message: "injected: release cannot be written"}})
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	_, err = limited.Send(dctx, r)
	cancel()
	require.Error(t, err)
	require.ErrorContains(t, err, "release sms "+r.RequestID, "the release was tried and failed")
	fired, err := testenv.Fired(testenv.Endpoint(t), f.ID)
	require.NoError(t, err)
	require.GreaterOrEqual(t, fired, 4, "every release write failed")
	require.NoError(t, testenv.RemoveFault(testenv.Endpoint(t), f.ID))
	require.Zero(t, p.count(r.RequestID))

	item, err := client.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: r.RequestID}}})
	require.NoError(t, err)
	require.Equal(t, &types.AttributeValueMemberS{Value: "in_progress"}, item.Item["status"])
	require.Equal(t, &types.AttributeValueMemberS{Value: "acquired"}, item.Item["phase"], "the record says: claimed, not started")

	// The redelivery after the lease (≤ 10 s + 1 s) sends it, once.
	clock.Advance(time.Minute)
	sender, err := sms.NewSender(p, store)
	require.NoError(t, err)
	res, err := sender.Send(ctx, r)
	require.NoError(t, err, "not started: taken over as not sent, not as unknown")
	require.Equal(t, sms.Sent, res.Status)
	require.Equal(t, 2, res.Attempt)
	for range 2 {
		res, err = sender.Send(ctx, r)
		require.NoError(t, err)
		require.Equal(t, sms.AlreadySent, res.Status)
	}
	require.Equal(t, 1, p.count(r.RequestID), "sent exactly once")
}
