package main

import (
	"context"
	"fmt"

	"github.com/aws/aws-lambda-go/events"
	"github.com/sirupsen/logrus"

	"github.com/offload/offload/pkg/audit"
	"github.com/offload/offload/pkg/batch"
	"github.com/offload/offload/pkg/logging"
	"github.com/offload/offload/pkg/message"
)

// Key sources, stored with each item (audit.AttrKeySource).
const (
	keyFromBody      = "producer"  // the AuditMessage's own messageId
	keyFromAttribute = "attribute" // offload's idempotency-key message attribute
	keyFromSQS       = "sqs"       // the SQS MessageId (the article's choice)
)

// Store writes one audit record idempotently (audit.Store).
type Store interface {
	Put(ctx context.Context, r audit.Record) (audit.Outcome, error)
}

// Counter counts events as metrics (metrics.Recorder).
type Counter interface {
	Count(name string, n int)
}

// handler stores one SQS record. Built once per container; holds no
// per-message state.
type handler struct {
	store   Store
	limits  audit.Limits
	metrics Counter
}

// handle decodes, validates and stores one record. Bad input is a permanent
// error (dead-lettered with its reason); a conflicting duplicate too, so it is
// kept for a human rather than overwritten or dropped; DynamoDB failures are
// transient (the record is retried with backoff).
func (h *handler) handle(ctx context.Context, msg events.SQSMessage) error {
	m, err := h.limits.Decode([]byte(msg.Body))
	if err != nil {
		return err // decode or validation: classified and permanent (pkg/batch, Classified)
	}
	rec := audit.Record{Message: m, SQSMessageID: msg.MessageId}
	rec.Key, rec.KeySource = key(m, msg)

	out, err := h.store.Put(ctx, rec)
	if err != nil {
		return err
	}
	switch out {
	case audit.Duplicate:
		recordLog(ctx, rec, out).Info("duplicate delivery: item already stored with the same content")
		h.metrics.Count("AuditDuplicate", 1)
	case audit.Conflict:
		recordLog(ctx, rec, out).Warn("conflict: an item with this key holds different content; not overwritten")
		h.metrics.Count("AuditConflict", 1)
		return batch.Permanent(message.ClassConflict, fmt.Sprintf("messageId %s at %s is already stored with different content",
			rec.Key, audit.FormatTime(m.AuditTime)), nil)
	default:
		h.metrics.Count("AuditStored", 1)
	}
	return nil
}

// recordLog is the record's logger with what Put did. Built only for the
// lines handle writes (a new record has none: the processor's outcome line
// is enough), since each field copies the logger's map.
func recordLog(ctx context.Context, rec audit.Record, out audit.Outcome) *logrus.Entry {
	return logging.FromContext(ctx).WithFields(logrus.Fields{
		logging.FieldAuditID: rec.Key, "key_source": rec.KeySource, "write": out.String(),
	})
}

// key picks the item's messageId: the producer's id in the body, else offload's
// idempotency-key attribute, else the SQS MessageId.
func key(m audit.Message, msg events.SQSMessage) (string, string) {
	if m.MessageID != "" {
		return m.MessageID, keyFromBody
	}
	if a, ok := msg.MessageAttributes[message.AttrIdempotencyKey]; ok && a.StringValue != nil && *a.StringValue != "" {
		return *a.StringValue, keyFromAttribute
	}
	return msg.MessageId, keyFromSQS
}
