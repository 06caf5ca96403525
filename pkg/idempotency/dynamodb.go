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
	attrToken      = "attempt_token"
	// attrPhase is "acquired" while a DeferStart claim has not started its
	// work; absent once it has (or when the claim did not defer its start).
	attrPhase = "phase"
)

// phaseAcquired is attrPhase's one value.
const phaseAcquired = "acquired"

// Item status values.
const (
	statusInProgress = "in_progress"
	statusCompleted  = "completed"
	statusUnknown    = "unknown"
	statusReleased   = "released"
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
		"#att": attrAttempt, "#upd": attrUpdatedAt, "#res": attrResult, "#rsn": attrReason, "#tok": attrToken, "#ph": attrPhase,
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

// Retention is how long a record is kept after its last write (WithRetention).
func (d *DynamoDBStore) Retention() time.Duration { return d.o.retention }

// Begin implements Store. One token is written by every write of this call,
// so that a write which committed although its answer was lost (the SDK
// retried it and the retry failed the condition) is recognised on the re-read
// as this call's own.
func (d *DynamoDBStore) Begin(ctx context.Context, key, payloadHash string, lease time.Duration, opts ...BeginOption) (Outcome, error) {
	if err := checkBegin(key, lease); err != nil {
		return Outcome{}, err
	}
	bo := beginOpts(opts)
	token := newToken()
	// What this call's last write would have made of the record.
	mine := StatusAcquired
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
		item[attrToken] = strAV(token)
		if bo.deferStart {
			item[attrPhase] = strAV(phaseAcquired)
		}
		_, err := d.client.PutItem(ctx, &dynamodb.PutItemInput{
			TableName:                 &d.table,
			Item:                      item,
			ConditionExpression:       aws.String("attribute_not_exists(#k) OR #exp <= :now OR #st = :released"),
			ExpressionAttributeNames:  d.namesFor("#k", "#exp", "#st"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":now": numAV(now.Unix()), ":released": strAV(statusReleased)},
		})
		if err == nil {
			return Outcome{Status: StatusAcquired, LeaseUntil: time.UnixMilli(until.UnixMilli()), Attempt: 1, Token: token}, nil
		}
		if !isConditionFailed(err) {
			// The write may still have committed: if the record is ours, we
			// hold it. Otherwise report the failure (a claim that lands
			// later expires with its lease).
			if rec, found, gerr := d.get(ctx, key); gerr == nil && found && rec.token == token && rec.status == statusInProgress {
				return d.own(rec, StatusAcquired), nil
			}
			return Outcome{}, fmt.Errorf("begin %s: put item in %s: %w", key, d.table, err)
		}
		rec, found, err := d.get(ctx, key)
		if err != nil {
			return Outcome{}, fmt.Errorf("begin %s: %w", key, err)
		}
		if !found || rec.expiresAt <= now.Unix() || rec.status == statusReleased {
			mine = StatusAcquired
			continue // deleted, expired or released in between: try to create it again
		}
		if rec.token == token && rec.status == statusInProgress {
			// Our own write committed and its answer was lost.
			return d.own(rec, mine), nil
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
		// Take over the expired lease, unless someone else just did (or,
		// for a claim that had not started, its holder started after all:
		// the condition on the phase then fails and the re-read sees it).
		mine = StatusLeaseExpired
		update := "SET #lease = :until, #exp = :exp, #att = #att + :one, #upd = :at, #tok = :tok"
		cond := "#st = :inprog AND #lease = :old"
		names := d.namesFor("#lease", "#exp", "#st", "#att", "#upd", "#tok")
		values := map[string]types.AttributeValue{
			":until": numAV(until.UnixMilli()), ":exp": numAV(until.Add(d.o.retention).Unix()), ":one": numAV(1),
			":at": strAV(now.UTC().Format(time.RFC3339Nano)), ":inprog": strAV(statusInProgress), ":old": numAV(rec.leaseUntil),
			":tok": strAV(token),
		}
		if rec.phase == phaseAcquired {
			// The expired attempt never started its work: not done, acquire.
			mine = StatusAcquired
			cond += " AND #ph = :acq"
			names["#ph"] = d.names["#ph"]
			values[":acq"] = strAV(phaseAcquired)
			if bo.deferStart {
				update += ", #ph = :acq"
			} else {
				update += " REMOVE #ph"
			}
		}
		_, err = d.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                 &d.table,
			Key:                       d.key(key),
			UpdateExpression:          &update,
			ConditionExpression:       &cond,
			ExpressionAttributeNames:  names,
			ExpressionAttributeValues: values,
		})
		if err == nil {
			return Outcome{Status: mine, LeaseUntil: time.UnixMilli(until.UnixMilli()), Attempt: rec.attempt + 1, Token: token}, nil
		}
		if !isConditionFailed(err) {
			if rec, found, gerr := d.get(ctx, key); gerr == nil && found && rec.token == token && rec.status == statusInProgress {
				return d.own(rec, mine), nil
			}
			return Outcome{}, fmt.Errorf("begin %s: take over expired lease in %s: %w", key, d.table, err)
		}
	}
	return Outcome{}, fmt.Errorf("begin %s: record in %s kept changing; gave up after %d tries", key, d.table, beginRaces)
}

// own is the Outcome of a record this Begin's own write created or took over.
func (d *DynamoDBStore) own(rec dynRecord, st Status) Outcome {
	return Outcome{Status: st, LeaseUntil: time.UnixMilli(rec.leaseUntil), Attempt: rec.attempt, Token: rec.token}
}

type dynRecord struct {
	status     string
	hash       string
	result     []byte
	reason     string
	leaseUntil int64
	expiresAt  int64
	attempt    int
	token      string
	phase      string
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
			case attrToken:
				r.token = x.Value
			case attrPhase:
				r.phase = x.Value
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

// finish moves the attempt's in-progress record to a final status, setting
// the optional extra attribute (an alias of d.names) to value. The write is
// conditioned on the attempt's token; when the condition fails, a consistent
// read tells a repeat of a finish that took effect (nil: the SDK retried a
// request that committed) from a lease another attempt holds (ErrLeaseLost)
// and a record that is not in progress (ErrNotHeld).
func (d *DynamoDBStore) finish(ctx context.Context, op, key, token, status, extra string, value types.AttributeValue) error {
	if err := checkToken(op, key, token); err != nil {
		return err
	}
	now := d.o.now()
	update := "SET #st = :status, #exp = :exp, #upd = :at"
	names := d.namesFor("#k", "#st", "#exp", "#lease", "#upd", "#tok")
	values := map[string]types.AttributeValue{
		":status": strAV(status), ":exp": numAV(now.Add(d.o.retention).Unix()), ":at": strAV(now.UTC().Format(time.RFC3339Nano)),
		":inprog": strAV(statusInProgress), ":now": numAV(now.Unix()), ":tok": strAV(token),
	}
	if extra != "" {
		update += ", " + extra + " = :extra"
		names[extra] = d.names[extra]
		values[":extra"] = value
	}
	update += " REMOVE #lease, #ph"
	names["#ph"] = d.names["#ph"]
	_, err := d.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &d.table,
		Key:                       d.key(key),
		UpdateExpression:          &update,
		ConditionExpression:       aws.String("attribute_exists(#k) AND #st = :inprog AND #tok = :tok AND #exp > :now"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	})
	if err == nil {
		return nil
	}
	if !isConditionFailed(err) {
		return fmt.Errorf("%s %s: update item in %s: %w", op, key, d.table, err)
	}
	rec, found, gerr := d.get(ctx, key)
	if gerr != nil {
		return fmt.Errorf("%s %s: condition failed, then: %w", op, key, gerr)
	}
	if !found || rec.expiresAt <= now.Unix() {
		return fmt.Errorf("%s %s: %w", op, key, ErrNotHeld)
	}
	// The condition failed, so an in-progress record with our token can only
	// be one whose expiry passed between the write and the read.
	return skipped(finishCheck(op, key, rec.status == statusInProgress && rec.token != token, rec.status == status, rec.token == token, rec.attempt))
}

// Start implements Store: the claim's "acquired" phase is removed, on the
// condition that the record is in progress under the attempt's token and its
// lease has not run out. Removing an absent phase changes nothing, so a
// repeat (the SDK's retry of a Start that committed) succeeds too.
func (d *DynamoDBStore) Start(ctx context.Context, key, token string) error {
	if err := checkToken("start", key, token); err != nil {
		return err
	}
	now := d.o.now()
	_, err := d.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                &d.table,
		Key:                      d.key(key),
		UpdateExpression:         aws.String("SET #upd = :at REMOVE #ph"),
		ConditionExpression:      aws.String("attribute_exists(#k) AND #st = :inprog AND #tok = :tok AND #lease > :nowms AND #exp > :now"),
		ExpressionAttributeNames: d.namesFor("#k", "#st", "#tok", "#lease", "#exp", "#upd", "#ph"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":at": strAV(now.UTC().Format(time.RFC3339Nano)), ":inprog": strAV(statusInProgress), ":tok": strAV(token),
			":nowms": numAV(now.UnixMilli()), ":now": numAV(now.Unix()),
		},
	})
	if err == nil {
		return nil
	}
	if !isConditionFailed(err) {
		return fmt.Errorf("start %s: update item in %s: %w", key, d.table, err)
	}
	rec, found, gerr := d.get(ctx, key)
	if gerr != nil {
		return fmt.Errorf("start %s: condition failed, then: %w", key, gerr)
	}
	if !found || rec.expiresAt <= now.Unix() {
		return fmt.Errorf("start %s: %w", key, ErrNotHeld)
	}
	return skipped(startCheck(key, rec.status == statusInProgress, rec.token == token, rec.phase != phaseAcquired,
		rec.leaseUntil > now.UnixMilli(), rec.attempt))
}

// Complete implements Store.
func (d *DynamoDBStore) Complete(ctx context.Context, key, token string, result []byte) error {
	if len(result) == 0 {
		return d.finish(ctx, "complete", key, token, statusCompleted, "", nil)
	}
	return d.finish(ctx, "complete", key, token, statusCompleted, "#res", &types.AttributeValueMemberB{Value: result})
}

// MarkUnknown implements Store.
func (d *DynamoDBStore) MarkUnknown(ctx context.Context, key, token, reason string) error {
	return d.finish(ctx, "mark unknown", key, token, statusUnknown, "#rsn", strAV(reason))
}

// Release implements Store: the record becomes "released" (not deleted), so
// that a repeat of a release whose answer was lost recognises it as done.
// The next Begin overwrites it.
func (d *DynamoDBStore) Release(ctx context.Context, key, token string) error {
	return d.finish(ctx, "release", key, token, statusReleased, "", nil)
}
