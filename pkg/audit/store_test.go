package audit

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/require"
)

// fakeTable is an in-memory table that honours the one condition Store uses.
type fakeTable struct {
	mu    sync.Mutex
	items map[[2]string]map[string]types.AttributeValue
	calls int
	err   error
}

func (f *fakeTable) PutItem(_ context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	if *in.ConditionExpression != "attribute_not_exists(#id)" || in.ExpressionAttributeNames["#id"] != AttrMessageID {
		return nil, errors.New("unexpected condition")
	}
	key := [2]string{s(in.Item[AttrMessageID]), s(in.Item[AttrAuditTime])}
	if old, ok := f.items[key]; ok {
		e := &types.ConditionalCheckFailedException{Message: ptr("The conditional request failed")}
		if in.ReturnValuesOnConditionCheckFailure == types.ReturnValuesOnConditionCheckFailureAllOld {
			e.Item = old
		}
		return nil, e
	}
	if f.items == nil {
		f.items = map[[2]string]map[string]types.AttributeValue{}
	}
	f.items[key] = in.Item
	return &dynamodb.PutItemOutput{}, nil
}

func s(v types.AttributeValue) string { return v.(*types.AttributeValueMemberS).Value }
func ptr[T any](v T) *T               { return &v }

func record(key, text string) Record {
	return Record{Key: key, KeySource: "producer", SQSMessageID: "sqs-" + key,
		Message: Message{MessageID: key, AuditText: text, AuditTime: time.Date(2026, 11, 26, 23, 12, 43, 123456700, time.UTC)}}
}

type put struct {
	rec  Record
	want Outcome
	why  string
}

// onePutOfEach is a record, its redelivery and a conflicting record, all
// under key "a", with the outcome each must have.
func onePutOfEach() []put {
	again := record("a", "signed in")
	again.SQSMessageID = "sqs-other"
	return []put{
		{record("a", "signed in"), Created, "the first put creates"},
		{again, Duplicate, "a redelivery (another SQS message id, same content) is acknowledged, not dead-lettered as a conflict"},
		{record("a", "signed OUT"), Conflict, "same key, different text: a conflict"},
	}
}

func TestPutCreatesOnceAndTellsDuplicatesFromConflicts(t *testing.T) {
	t.Parallel()
	table := &fakeTable{}
	store := NewStore(table, "AuditMessages")
	for _, p := range onePutOfEach() {
		out, err := store.Put(context.Background(), p.rec)
		require.NoError(t, err)
		require.Equal(t, p.want, out, p.why)
	}

	// The first item is untouched.
	require.Len(t, table.items, 1)
	item := table.items[[2]string{"a", "2026-11-26T23:12:43.1234567Z"}]
	require.Equal(t, "signed in", s(item[AttrAuditText]))
	require.Equal(t, "sqs-a", s(item[AttrSQSMessageID]))
	require.Equal(t, "producer", s(item[AttrKeySource]))
	require.Len(t, s(item[AttrContentHash]), 64)
}

func TestPutRecognisesItemsWrittenByTheArticleFunction(t *testing.T) {
	t.Parallel()
	// The article's .NET function stored messageId, auditText and auditTime only.
	table := &fakeTable{items: map[[2]string]map[string]types.AttributeValue{
		{"legacy", "2026-11-26T23:12:43.1234567Z"}: {
			AttrMessageID: &types.AttributeValueMemberS{Value: "legacy"},
			AttrAuditTime: &types.AttributeValueMemberS{Value: "2026-11-26T23:12:43.1234567Z"},
			AttrAuditText: &types.AttributeValueMemberS{Value: "signed in"},
		},
	}}
	store := NewStore(table, "AuditMessages")
	out, err := store.Put(context.Background(), record("legacy", "signed in"))
	require.NoError(t, err)
	require.Equal(t, Duplicate, out)
	out, err = store.Put(context.Background(), record("legacy", "other"))
	require.NoError(t, err)
	require.Equal(t, Conflict, out)
}

func TestPutReturnsDynamoErrorsWithTheKey(t *testing.T) {
	t.Parallel()
	throttled := &types.ProvisionedThroughputExceededException{Message: ptr("slow down")}
	store := NewStore(&fakeTable{err: throttled}, "AuditMessages")
	_, err := store.Put(context.Background(), record("k1", "x"))
	require.ErrorIs(t, err, throttled)
	require.Contains(t, err.Error(), "put audit k1")
}

func TestContentHashIgnoresDeliveryDetails(t *testing.T) {
	t.Parallel()
	a, b := record("a", "x"), record("b", "x")
	b.SQSMessageID, b.KeySource = "zzz", "sqs"
	require.Equal(t, a.ContentHash(), b.ContentHash())
	c := record("a", "x")
	c.Message.AuditTime = c.Message.AuditTime.Add(100 * time.Nanosecond)
	require.NotEqual(t, a.ContentHash(), c.ContentHash())
}

func BenchmarkPut(b *testing.B) {
	store := NewStore(&fakeTable{}, "AuditMessages")
	ctx := context.Background()
	r := record("bench", "benchmark text")
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		r.Key = string(rune('a'+i%26)) + time.Duration(i).String()
		if _, err := store.Put(ctx, r); err != nil {
			b.Fatal(err)
		}
	}
}

// noItemTable is a DynamoDB-compatible store that answers a failed condition
// without the old item (ReturnValuesOnConditionCheckFailure ignored), and
// serves consistent GetItem.
type noItemTable struct {
	fakeTable
	gets       int
	consistent []bool
	getErr     error
}

func (f *noItemTable) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	out, err := f.fakeTable.PutItem(ctx, in, opts...)
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return nil, &types.ConditionalCheckFailedException{Message: ccf.Message}
	}
	return out, err
}

func (f *noItemTable) GetItem(_ context.Context, in *dynamodb.GetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gets++
	f.consistent = append(f.consistent, in.ConsistentRead != nil && *in.ConsistentRead)
	if f.getErr != nil {
		return nil, f.getErr
	}
	return &dynamodb.GetItemOutput{Item: f.items[[2]string{s(in.Key[AttrMessageID]), s(in.Key[AttrAuditTime])}]}, nil
}

func TestPutFallsBackToAConsistentReadWhenTheConditionReturnsNoItem(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	table := &noItemTable{}
	store := NewStore(table, "AuditMessages")
	puts := onePutOfEach()
	for _, p := range puts {
		out, err := store.Put(ctx, p.rec)
		require.NoError(t, err)
		require.Equal(t, p.want, out, p.why)
		if p.want == Created {
			require.Zero(t, table.gets, "no read when the write succeeds")
		}
	}
	require.Equal(t, []bool{true, true}, table.consistent, "one consistent read per failed condition")

	// The read fails: transient, never a guess.
	table.getErr = errors.New("connection reset")
	_, err := store.Put(ctx, puts[1].rec)
	require.ErrorContains(t, err, "read audit a")
	require.Len(t, table.items, 1)
}

func TestPutWithoutAReaderReturnsAnErrorNotAConflict(t *testing.T) {
	t.Parallel()
	table := &noItemTable{}
	// Only PutItem visible to the store.
	store := NewStore(struct{ PutItemAPI }{table}, "AuditMessages")
	_, err := store.Put(context.Background(), record("a", "x"))
	require.NoError(t, err)
	_, err = store.Put(context.Background(), record("a", "x"))
	require.ErrorContains(t, err, "no item")
}
