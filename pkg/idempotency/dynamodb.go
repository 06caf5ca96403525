package idempotency

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// DynamoDBAPI is the subset of *dynamodb.Client operations the DynamoDBStore
// uses.
type DynamoDBAPI interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

// Item attribute names besides the key and TTL attributes.
const (
	attrStatus     = "status"
	attrHash       = "payload_hash"
	attrLeaseUntil = "lease_until" // unix milliseconds
	attrResult     = "result"
	attrReason     = "reason"
	attrAttempt    = "attempt"
	attrUpdatedAt  = "updated_at"
)

// Item status values.
const (
	statusInProgress = "in_progress"
	statusCompleted  = "completed"
	statusUnknown    = "unknown"
)

// beginRaces bounds Begin's read-then-write retries when other callers change
// the record in between.
const beginRaces = 5

// DynamoDBStore is a Store in a DynamoDB table whose partition key is a
// string attribute (WithKeyAttribute, default "id"), with TTL enabled on the
// expiry attribute (WithTTLAttribute, default "expires_at"). Every state
// change is a conditional write, so concurrent callers never both acquire a
// key.
type DynamoDBStore struct {
	client DynamoDBAPI
	table  string
	o      options
	names  map[string]string
}

var _ Store = (*DynamoDBStore)(nil)

// NewDynamoDB returns a store on table through client, reporting every
// configuration problem at once.
func NewDynamoDB(client DynamoDBAPI, table string, opts ...Option) (*DynamoDBStore, error) {
	o, err := newOptions(opts)
	var errs []error
	if err != nil {
		errs = append(errs, err)
	}
	if client == nil {
		errs = append(errs, errors.New("DynamoDB client is required"))
	}
	if table == "" {
		errs = append(errs, errors.New("table name is required"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("new DynamoDB idempotency store: %w", err)
	}
	return &DynamoDBStore{client: client, table: table, o: o, names: map[string]string{
		"#k": o.keyAttr, "#exp": o.ttlAttr, "#st": attrStatus, "#lease": attrLeaseUntil,
		"#att": attrAttempt, "#upd": attrUpdatedAt, "#res": attrResult, "#rsn": attrReason,
	}}, nil
}

func strAV(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func numAV(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

func (d *DynamoDBStore) key(k string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{d.o.keyAttr: strAV(k)}
}

// namesFor returns the expression attribute names an expression uses.
func (d *DynamoDBStore) namesFor(aliases ...string) map[string]string {
	m := make(map[string]string, len(aliases))
	for _, a := range aliases {
		m[a] = d.names[a]
	}
	return m
}

func isConditionFailed(err error) bool {
	var cf *types.ConditionalCheckFailedException
	return errors.As(err, &cf)
}

// Begin implements Store.
func (d *DynamoDBStore) Begin(ctx context.Context, key, payloadHash string, lease time.Duration) (Outcome, error) {
	if err := checkBegin(key, lease); err != nil {
		return Outcome{}, err
	}
	for range beginRaces {
		now := d.o.now()
		until := now.Add(lease)
		item := d.key(key)
		item[attrStatus] = strAV(statusInProgress)
		item[attrHash] = strAV(payloadHash)
		item[attrLeaseUntil] = numAV(until.UnixMilli())
		item[d.o.ttlAttr] = numAV(until.Add(d.o.retention).Unix())
		item[attrAttempt] = numAV(1)
		item[attrUpdatedAt] = strAV(now.UTC().Format(time.RFC3339Nano))
		_, err := d.client.PutItem(ctx, &dynamodb.PutItemInput{
			TableName:                 &d.table,
			Item:                      item,
			ConditionExpression:       aws.String("attribute_not_exists(#k) OR #exp <= :now"),
			ExpressionAttributeNames:  d.namesFor("#k", "#exp"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":now": numAV(now.Unix())},
		})
		if err == nil {
			return Outcome{Status: StatusAcquired, LeaseUntil: time.UnixMilli(until.UnixMilli()), Attempt: 1}, nil
		}
		if !isConditionFailed(err) {
			return Outcome{}, fmt.Errorf("begin %s: put item in %s: %w", key, d.table, err)
		}
		rec, found, err := d.get(ctx, key)
		if err != nil {
			return Outcome{}, fmt.Errorf("begin %s: %w", key, err)
		}
		if !found || rec.expiresAt <= now.Unix() {
			continue // deleted or expired in between: try to create it again
		}
		if rec.hash != payloadHash {
			return Outcome{}, fmt.Errorf("begin %s: %w", key, ErrPayloadMismatch)
		}
		switch rec.status {
		case statusCompleted:
			return Outcome{Status: StatusCompleted, Result: rec.result, Attempt: rec.attempt}, nil
		case statusUnknown:
			return Outcome{Status: StatusUnknown, Reason: rec.reason, Attempt: rec.attempt}, nil
		case statusInProgress:
		default:
			return Outcome{}, fmt.Errorf("begin %s: record has unexpected status %q", key, rec.status)
		}
		if rec.leaseUntil > now.UnixMilli() {
			return Outcome{Status: StatusInProgress, LeaseUntil: time.UnixMilli(rec.leaseUntil), Attempt: rec.attempt}, nil
		}
		// Take over the expired lease, unless someone else just did.
		_, err = d.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                &d.table,
			Key:                      d.key(key),
			UpdateExpression:         aws.String("SET #lease = :until, #exp = :exp, #att = #att + :one, #upd = :at"),
			ConditionExpression:      aws.String("#st = :inprog AND #lease = :old"),
			ExpressionAttributeNames: d.namesFor("#lease", "#exp", "#st", "#att", "#upd"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":until": numAV(until.UnixMilli()), ":exp": numAV(until.Add(d.o.retention).Unix()), ":one": numAV(1),
				":at": strAV(now.UTC().Format(time.RFC3339Nano)), ":inprog": strAV(statusInProgress), ":old": numAV(rec.leaseUntil),
			},
		})
		if err == nil {
			return Outcome{Status: StatusLeaseExpired, LeaseUntil: time.UnixMilli(until.UnixMilli()), Attempt: rec.attempt + 1}, nil
		}
		if !isConditionFailed(err) {
			return Outcome{}, fmt.Errorf("begin %s: take over expired lease in %s: %w", key, d.table, err)
		}
	}
	return Outcome{}, fmt.Errorf("begin %s: record in %s kept changing; gave up after %d tries", key, d.table, beginRaces)
}

type dynRecord struct {
	status     string
	hash       string
	result     []byte
	reason     string
	leaseUntil int64
	expiresAt  int64
	attempt    int
}

func (d *DynamoDBStore) get(ctx context.Context, key string) (dynRecord, bool, error) {
	out, err := d.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: &d.table, Key: d.key(key), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return dynRecord{}, false, fmt.Errorf("get item from %s: %w", d.table, err)
	}
	if len(out.Item) == 0 {
		return dynRecord{}, false, nil
	}
	var r dynRecord
	for name, v := range out.Item {
		switch x := v.(type) {
		case *types.AttributeValueMemberS:
			switch name {
			case attrStatus:
				r.status = x.Value
			case attrHash:
				r.hash = x.Value
			case attrReason:
				r.reason = x.Value
			}
		case *types.AttributeValueMemberN:
			i, err := strconv.ParseInt(x.Value, 10, 64)
			if err != nil {
				return dynRecord{}, false, fmt.Errorf("item %s in %s: attribute %s: %w", key, d.table, name, err)
			}
			switch name {
			case attrLeaseUntil:
				r.leaseUntil = i
			case d.o.ttlAttr:
				r.expiresAt = i
			case attrAttempt:
				r.attempt = int(i)
			}
		case *types.AttributeValueMemberB:
			if name == attrResult && len(x.Value) > 0 {
				r.result = x.Value
			}
		}
	}
	return r, true, nil
}

// finish moves key's in-progress record to a final status, setting the
// optional extra attribute (an alias of d.names) to value.
func (d *DynamoDBStore) finish(ctx context.Context, op, key, status, extra string, value types.AttributeValue) error {
	now := d.o.now()
	update := "SET #st = :status, #exp = :exp, #upd = :at"
	names := d.namesFor("#k", "#st", "#exp", "#lease", "#upd")
	values := map[string]types.AttributeValue{
		":status": strAV(status), ":exp": numAV(now.Add(d.o.retention).Unix()), ":at": strAV(now.UTC().Format(time.RFC3339Nano)),
		":inprog": strAV(statusInProgress), ":now": numAV(now.Unix()),
	}
	if extra != "" {
		update += ", " + extra + " = :extra"
		names[extra] = d.names[extra]
		values[":extra"] = value
	}
	update += " REMOVE #lease"
	_, err := d.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &d.table,
		Key:                       d.key(key),
		UpdateExpression:          &update,
		ConditionExpression:       aws.String("attribute_exists(#k) AND #st = :inprog AND #exp > :now"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	})
	if isConditionFailed(err) {
		return fmt.Errorf("%s %s: %w", op, key, ErrNotHeld)
	}
	if err != nil {
		return fmt.Errorf("%s %s: update item in %s: %w", op, key, d.table, err)
	}
	return nil
}

// Complete implements Store.
func (d *DynamoDBStore) Complete(ctx context.Context, key string, result []byte) error {
	if len(result) == 0 {
		return d.finish(ctx, "complete", key, statusCompleted, "", nil)
	}
	return d.finish(ctx, "complete", key, statusCompleted, "#res", &types.AttributeValueMemberB{Value: result})
}

// MarkUnknown implements Store.
func (d *DynamoDBStore) MarkUnknown(ctx context.Context, key, reason string) error {
	return d.finish(ctx, "mark unknown", key, statusUnknown, "#rsn", strAV(reason))
}

// Release implements Store.
func (d *DynamoDBStore) Release(ctx context.Context, key string) error {
	now := d.o.now()
	_, err := d.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                &d.table,
		Key:                      d.key(key),
		ConditionExpression:      aws.String("attribute_exists(#k) AND #st = :inprog AND #exp > :now"),
		ExpressionAttributeNames: d.namesFor("#k", "#st", "#exp"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":inprog": strAV(statusInProgress), ":now": numAV(now.Unix()),
		},
	})
	if isConditionFailed(err) {
		return fmt.Errorf("release %s: %w", key, ErrNotHeld)
	}
	if err != nil {
		return fmt.Errorf("release %s: delete item from %s: %w", key, d.table, err)
	}
	return nil
}
