package batch

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/offload/offload/pkg/logging"
	"github.com/offload/offload/pkg/message"
)

// DeadLetterAPI is the subset of *sqs.Client operations used to dead-letter
// permanently failed records.
type DeadLetterAPI interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// DefaultDeadLetterMaxBytes is the DLQ's maximum message size assumed
// without WithDeadLetterMaxBytes: 256 KiB, the deployed queues' setting.
const DefaultDeadLetterMaxBytes = 256 * 1024

// exhausted is the permanent failure of a record whose last receive failed
// transiently: the reason names the receive and the cause (one line, masked).
func exhausted(rec *events.SQSMessage, what string, cause error) *PermanentError {
	msg := logging.Mask(cause.Error())
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	reason := fmt.Sprintf("%s on receive %d, the queue's last: %s", what, receiveCount(rec), msg)
	return &PermanentError{Class: message.ClassRetriesExhausted, Reason: reason, Err: cause}
}

// maxReasonBytes bounds the reason stored on a dead-lettered message.
const maxReasonBytes = 1024

// deadLetterCopy is what deadLetter sends: the failure attributes, then the
// copied ones, trimmed to fit.
type deadLetterCopy struct {
	attrs   map[string]types.MessageAttributeValue
	copied  []string // names of copied attributes, most important first
	dropped int      // copied attributes left out
	trimmed []string // what fitting to the DLQ's limit cost, for the log
}

// attrSize is an attribute's share of SQS's message size: name, data type and
// value.
func attrSize(name string, a types.MessageAttributeValue) int {
	return len(name) + len(aws.ToString(a.DataType)) + len(aws.ToString(a.StringValue)) + len(a.BinaryValue)
}

func (c *deadLetterCopy) size(body string) int {
	n := len(body)
	for name, a := range c.attrs {
		n += attrSize(name, a)
	}
	return n
}

// fit trims the copy to limit bytes, keeping the body intact: first the
// reason (cut on a character, down to nothing), then the copied attributes
// (least important first), then the failure metadata except the class and
// the original message id. A body that leaves no room even for those two is
// sent with no attributes at all: the reason is then in the log only.
func (c *deadLetterCopy) fit(body string, limit int) {
	over := c.size(body) - limit
	if over <= 0 {
		return
	}
	if r, ok := c.attrs[message.AttrFailureReason]; ok {
		v := aws.ToString(r.StringValue)
		keep := max(len(v)-over, 0)
		for keep > 0 && !utf8.RuneStart(v[keep]) {
			keep--
		}
		if keep > 0 {
			c.attrs[message.AttrFailureReason] = types.MessageAttributeValue{DataType: r.DataType, StringValue: aws.String(v[:keep])}
			c.trimmed = append(c.trimmed, "reason")
			return
		}
		delete(c.attrs, message.AttrFailureReason)
		c.trimmed = append(c.trimmed, "reason removed")
		over = c.size(body) - limit
	}
	for i := len(c.copied) - 1; i >= 0 && over > 0; i-- {
		name := c.copied[i]
		over -= attrSize(name, c.attrs[name])
		delete(c.attrs, name)
		c.dropped++
		c.trimmed = append(c.trimmed, "copied "+name)
	}
	for _, name := range []string{message.AttrFailedAt, message.AttrReceiveCount, message.AttrSourceQueue} {
		if over <= 0 {
			return
		}
		over -= attrSize(name, c.attrs[name])
		delete(c.attrs, name)
		c.trimmed = append(c.trimmed, name)
	}
	if over > 0 {
		clear(c.attrs)
		c.trimmed = append(c.trimmed, "all attributes")
	}
}

// deadLetter sends rec to the DLQ with the failure attributes and as many of
// its own attributes as fit in SQS's 10 (the producer's first), trimmed to
// the DLQ's maximum message size. It returns how many original attributes
// had to be dropped and what trimming cost.
func (p *Processor) deadLetter(ctx context.Context, rec *events.SQSMessage, pe *PermanentError) (int, []string, error) {
	str := func(v string) types.MessageAttributeValue {
		return types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
	}
	reason := pe.Reason
	if len(reason) > maxReasonBytes {
		reason = strings.ToValidUTF8(reason[:maxReasonBytes], "")
	}
	if reason == "" {
		reason = "(no reason given)"
	}
	class := pe.Class
	if class == "" {
		class = message.ClassUnclassified
	}
	c := &deadLetterCopy{attrs: make(map[string]types.MessageAttributeValue, message.MaxAttributes)}
	attrs := c.attrs
	attrs[message.AttrFailureReason] = str(reason)
	attrs[message.AttrFailureClass] = str(class)
	attrs[message.AttrSourceQueue] = str(rec.EventSourceARN)
	attrs[message.AttrOriginalMessageID] = str(rec.MessageId)
	attrs[message.AttrReceiveCount] = str(strconv.Itoa(receiveCount(rec)))
	attrs[message.AttrFailedAt] = str(p.now().UTC().Format(time.RFC3339))
	if t, ok := FirstEnqueuedAt(*rec); ok && p.firstEnqueued {
		// Kept across redrives, which give the message a new SentTimestamp.
		attrs[message.AttrFirstEnqueuedAt] = str(t.UTC().Format(message.FirstEnqueuedLayout))
	}

	names := make([]string, 0, len(rec.MessageAttributes))
	for name := range rec.MessageAttributes {
		if _, ours := attrs[name]; !ours {
			names = append(names, name)
		}
	}
	sort.Slice(names, func(i, j int) bool {
		pi, pj := producerRank(names[i]), producerRank(names[j])
		if pi != pj {
			return pi < pj
		}
		return names[i] < names[j]
	})
	for _, name := range names {
		a := rec.MessageAttributes[name]
		if len(attrs) >= message.MaxAttributes || (a.StringValue == nil && a.BinaryValue == nil) {
			c.dropped++
			continue
		}
		attrs[name] = types.MessageAttributeValue{DataType: aws.String(a.DataType), StringValue: a.StringValue, BinaryValue: a.BinaryValue}
		c.copied = append(c.copied, name)
	}
	c.fit(rec.Body, p.dlqMaxBytes)
	in := &sqs.SendMessageInput{QueueUrl: &p.dlqURL, MessageBody: &rec.Body, MessageAttributes: attrs}
	if th := rec.Attributes[message.SystemAttrTraceHeader]; th != "" {
		in.MessageSystemAttributes = map[string]types.MessageSystemAttributeValue{
			message.SystemAttrTraceHeader: {DataType: aws.String("String"), StringValue: aws.String(th)},
		}
	}
	if strings.HasSuffix(p.dlqURL, ".fifo") {
		group := rec.Attributes["MessageGroupId"]
		if group == "" {
			group = "dead-letter"
		}
		in.MessageGroupId = &group
		in.MessageDeduplicationId = &rec.MessageId
	}
	if len(attrs) == 0 {
		in.MessageAttributes = nil
	}
	if _, err := p.dlq.SendMessage(ctx, in); err != nil {
		return c.dropped, c.trimmed, fmt.Errorf("dead-letter %s to %s: %w", rec.MessageId, p.dlqURL, err)
	}
	return c.dropped, c.trimmed, nil
}

// FirstEnqueuedAt is when rec was first enqueued: its
// message.AttrFirstEnqueuedAt attribute (set on dead letters and kept by
// redrives), else its SentTimestamp. ok is false when it carries neither.
func FirstEnqueuedAt(rec events.SQSMessage) (time.Time, bool) {
	if a, ok := rec.MessageAttributes[message.AttrFirstEnqueuedAt]; ok && a.StringValue != nil {
		if t, err := time.Parse(time.RFC3339, *a.StringValue); err == nil {
			return t, true
		}
	}
	if ms, err := strconv.ParseInt(rec.Attributes["SentTimestamp"], 10, 64); err == nil && ms > 0 {
		return time.UnixMilli(ms), true
	}
	return time.Time{}, false
}

// producerRank orders the producer's attributes first when space is short.
func producerRank(name string) int {
	switch name {
	case message.AttrIdempotencyKey:
		return 0
	case message.AttrType:
		return 1
	case message.AttrVersion:
		return 2
	}
	return 3
}
