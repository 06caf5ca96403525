package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Attribute names of an item in the AuditMessages table. The first three are
// the article's; the rest is metadata offload adds.
const (
	AttrMessageID    = "messageId"
	AttrAuditTime    = "auditTime"
	AttrAuditText    = "auditText"
	AttrContentHash  = "contentHash"
	AttrSQSMessageID = "sqsMessageId"
	AttrKeySource    = "keySource"
	AttrStoredAt     = "storedAt"
)

// PutItemAPI is the subset of *dynamodb.Client operations the Store needs:
// one conditional PutItem per record. A client that also implements
// GetItemAPI (as *dynamodb.Client does) lets the Store tell a duplicate from a
// conflict when a store answers a failed condition without the existing item.
type PutItemAPI interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
}

// GetItemAPI is the read the Store falls back to: one consistent GetItem,
// only after a failed condition that returned no item (the function's role
// needs dynamodb:GetItem on the table for it).
type GetItemAPI interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
}

// Record is what the consumer stores for one message.
type Record struct {
	// Key is the item's messageId: the producer's messageId when it sent one,
	// else the SQS MessageId.
	Key string
	// KeySource says where Key came from ("producer", "attribute" or "sqs").
	KeySource string
	// SQSMessageID is the id of the SQS message that carried the record.
	SQSMessageID string
	// Message is the decoded audit record.
	Message Message
}

// ContentHash identifies a record's content: the same text at the same time
// hashes the same whatever the delivery.
func (r Record) ContentHash() string {
	return contentHash(FormatTime(r.Message.AuditTime), r.Message.AuditText)
}

// contentHash is the hex SHA-256 of the formatted audit time, a zero byte
// and the text, hashed on the stack: Put runs it for every record.
func contentHash(at, text string) string {
	h := sha256.New()
	h.Write([]byte(at))
	h.Write([]byte{0})
	h.Write([]byte(text))
	var sum [sha256.Size]byte
	var hexSum [2 * sha256.Size]byte
	hex.Encode(hexSum[:], h.Sum(sum[:0]))
	return string(hexSum[:])
}

// Outcome is what Put did.
type Outcome int

const (
	// Created means the item did not exist and now does.
	Created Outcome = iota + 1
	// Duplicate means an item with the same key and the same content existed:
	// a redelivery or a producer retry. Nothing was written.
	Duplicate
	// Conflict means an item with the same key but different content existed.
	// Nothing was written; the caller must report it.
	Conflict
)

// String is the outcome as logged: created, duplicate or conflict.
func (o Outcome) String() string {
	switch o {
	case Created:
		return "created"
	case Duplicate:
		return "duplicate"
	case Conflict:
		return "conflict"
	}
	return "unknown"
}

// Store writes audit records to the AuditMessages table. It is safe for
// concurrent use.
type Store struct {
	client PutItemAPI
	table  string
	now    func() time.Time
}

// NewStore returns a Store writing to table through client.
func NewStore(client PutItemAPI, table string) *Store {
	return &Store{client: client, table: table, now: time.Now}
}

// Put writes r unless an item with its key exists. A duplicate delivery is
// Duplicate, not an error; a different content under the same key is
// Conflict and is never overwritten. Errors are the DynamoDB call's
// (throttling, 5xx, timeouts): the caller retries those.
//
// The existing item normally comes back with the failed condition
// (ReturnValuesOnConditionCheckFailure). When it does not (a
// DynamoDB-compatible store that ignores the option), Put reads it with a
// consistent GetItem; without a GetItemAPI client, or when the read fails or
// finds nothing, Put returns an error (retried) rather than guess.
func (s *Store) Put(ctx context.Context, r Record) (Outcome, error) {
	at := FormatTime(r.Message.AuditTime)
	hash := contentHash(at, r.Message.AuditText)
	item := map[string]types.AttributeValue{
		AttrMessageID:   &types.AttributeValueMemberS{Value: r.Key},
		AttrAuditTime:   &types.AttributeValueMemberS{Value: at},
		AttrAuditText:   &types.AttributeValueMemberS{Value: r.Message.AuditText},
		AttrContentHash: &types.AttributeValueMemberS{Value: hash},
		AttrStoredAt:    &types.AttributeValueMemberS{Value: s.now().UTC().Format(time.RFC3339Nano)},
	}
	if r.SQSMessageID != "" {
		item[AttrSQSMessageID] = &types.AttributeValueMemberS{Value: r.SQSMessageID}
	}
	if r.KeySource != "" {
		item[AttrKeySource] = &types.AttributeValueMemberS{Value: r.KeySource}
	}
	_, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:           aws.String(s.table),
		Item:                item,
		ConditionExpression: aws.String("attribute_not_exists(#id)"),
		ExpressionAttributeNames: map[string]string{
			"#id": AttrMessageID,
		},
		// The existing item comes back with the failure, so telling a
		// duplicate from a conflict costs no read (and no GetItem permission).
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err == nil {
		return Created, nil
	}
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) {
		return 0, fmt.Errorf("put audit %s: %w", r.Key, err)
	}
	existing := ccf.Item
	if len(existing) == 0 {
		if existing, err = s.read(ctx, r); err != nil {
			return 0, err
		}
	}
	if existingHash(existing) == hash {
		return Duplicate, nil
	}
	return Conflict, nil
}

// read returns the item under r's key with a consistent read, after a failed
// condition that returned none.
func (s *Store) read(ctx context.Context, r Record) (map[string]types.AttributeValue, error) {
	getter, ok := s.client.(GetItemAPI)
	if !ok {
		return nil, fmt.Errorf("put audit %s: the condition failed with no item and the client cannot read it", r.Key)
	}
	out, err := getter.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table),
		Key: map[string]types.AttributeValue{
			AttrMessageID: &types.AttributeValueMemberS{Value: r.Key},
			AttrAuditTime: &types.AttributeValueMemberS{Value: FormatTime(r.Message.AuditTime)},
		},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("read audit %s after a failed condition: %w", r.Key, err)
	}
	if len(out.Item) == 0 {
		// Deleted in between (the table has no TTL): retry the write.
		return nil, fmt.Errorf("put audit %s: the condition failed but a consistent read found no item", r.Key)
	}
	return out.Item, nil
}

// existingHash returns the stored content hash, computing it for items written
// before offload (the article's function stored no hash).
func existingHash(item map[string]types.AttributeValue) string {
	if v, ok := item[AttrContentHash].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	text, _ := item[AttrAuditText].(*types.AttributeValueMemberS)
	at, _ := item[AttrAuditTime].(*types.AttributeValueMemberS)
	if text == nil || at == nil {
		return ""
	}
	t, err := ParseTime(at.Value)
	if err != nil {
		return ""
	}
	return Record{Message: Message{AuditText: text.Value, AuditTime: t}}.ContentHash()
}
