package localrt

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// poller is the event source mapping of one SQS queue to one function.
type poller struct {
	m        Mapping
	pool     *pool
	sqs      SQSAPI
	region   string
	queueURL string
	wait     time.Duration
	maxConc  int
	log      *slog.Logger

	// carry holds received messages that did not fit the last batch's 6 MB
	// payload: they open the next batch (only the gatherer touches it).
	carry []sqstypes.Message
}

// maxEventBytes caps the event of one invoke: Lambda passes a batch to the
// function "up to the payload limit for synchronous invocation (6 MB)".
const maxEventBytes = 6 << 20

// maxWait is SQS's longest long poll (WaitTimeSeconds ≤ 20).
const maxWait = 20 * time.Second

// run polls until ctx is done. One gatherer builds batches; up to maxConc
// batches are in the function at once, and no message is received while all
// of them are busy (a received message would only sit invisible).
func (p *poller) run(ctx context.Context) {
	sem := make(chan struct{}, p.maxConc)
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		msgs, err := p.gather(ctx)
		if err != nil {
			<-sem
			if ctx.Err() != nil {
				return
			}
			p.log.Warn("receive failed", "queue", p.queueURL, "error", err)
			select {
			case <-time.After(time.Second):
			case <-ctx.Done():
				return
			}
			continue
		}
		if msgs = p.filter(ctx, msgs); len(msgs) == 0 {
			<-sem
			continue
		}
		wg.Go(func() {
			defer func() { <-sem }()
			p.process(ctx, msgs)
		})
	}
}

// gather receives up to the batch size: it returns as soon as the batch is
// full, or when the batching window (counted from the first message) ends;
// with no window, after the first receive that returns messages. A window
// longer than SQS's 20 s long poll takes several receives. The batch's event
// stays within 6 MB: a message that would take it past is carried into the
// next batch.
func (p *poller) gather(ctx context.Context) ([]sqstypes.Message, error) {
	var batch []sqstypes.Message
	var windowEnd time.Time
	size := len(`{"Records":[]}`)
	add := func(msgs []sqstypes.Message) (full bool) {
		for i, m := range msgs {
			if j := slices.IndexFunc(batch, func(b sqstypes.Message) bool { return aws.ToString(b.MessageId) == aws.ToString(m.MessageId) }); j >= 0 {
				// Received again (its visibility timeout ran out while the
				// window was open): the earlier receipt handle is stale.
				batch[j] = m
				continue
			}
			n := p.recordBytes(m)
			if len(batch) > 0 {
				n++ // the comma between records
			}
			if len(batch) > 0 && size+n > maxEventBytes {
				p.carry = append(p.carry, msgs[i:]...)
				return true
			}
			if len(batch) == 0 {
				windowEnd = time.Now().Add(p.m.Window)
			}
			batch = append(batch, m)
			size += n
		}
		return false
	}
	carried := p.carry
	p.carry = nil
	if add(carried) || len(batch) >= p.m.BatchSize {
		return batch, nil
	}
	for {
		want := min(10, p.m.BatchSize-len(batch))
		wait := p.wait
		if len(batch) > 0 {
			remaining := time.Until(windowEnd)
			if remaining <= 0 {
				return batch, nil
			}
			wait = min(remaining, maxWait).Truncate(time.Second)
		}
		out, err := p.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:                    aws.String(p.queueURL),
			MaxNumberOfMessages:         int32(want),
			WaitTimeSeconds:             int32(wait / time.Second),
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
			MessageAttributeNames:       []string{"All"},
		})
		if err != nil {
			if len(batch) > 0 && ctx.Err() == nil {
				return batch, nil
			}
			return batch, fmt.Errorf("receive from %s: %w", p.queueURL, err)
		}
		full := add(out.Messages)
		switch {
		case len(batch) == 0:
			return nil, nil
		case full || len(batch) >= p.m.BatchSize || p.m.Window == 0:
			return batch, nil
		case len(out.Messages) == 0 && wait == 0:
			// Under a second of window left: short polls, 100 ms apart.
			select {
			case <-time.After(min(100*time.Millisecond, time.Until(windowEnd))):
			case <-ctx.Done():
				return batch, nil
			}
		}
	}
}

// recordBytes is the size of m's record in the event Lambda builds.
func (p *poller) recordBytes(m sqstypes.Message) int {
	b, err := json.Marshal(sqsEvent([]sqstypes.Message{m}, p.m.QueueARN, p.region).Records[0])
	if err != nil {
		return 0
	}
	return len(b)
}

// process invokes the function with one batch and deletes what succeeded.
func (p *poller) process(ctx context.Context, msgs []sqstypes.Message) {
	payload, err := json.Marshal(sqsEvent(msgs, p.m.QueueARN, p.region))
	if err != nil {
		p.log.Error("encode SQS event", "function", p.m.Function, "error", err)
		return
	}
	res, err := p.pool.invoke(ctx, payload, traceHeaderOf(msgs))
	if errors.Is(err, ErrThrottled) {
		// Lambda's poller cannot invoke a throttled function: the batch is
		// not deleted and returns after the visibility timeout.
		p.log.Warn("throttled (reserved concurrency): batch returns after the visibility timeout", "function", p.m.Function, "queue", p.m.QueueARN, "records", len(msgs))
		return
	}
	if err != nil {
		p.log.Warn("invoke failed: batch returns after the visibility timeout", "function", p.m.Function, "queue", p.m.QueueARN, "records", len(msgs), "error", err)
		return
	}
	if res.Err != nil {
		p.log.Info("function error: batch returns after the visibility timeout", "function", p.m.Function, "request_id", res.RequestID,
			"records", len(msgs), "error_type", res.Err.Type, "error", res.Err.Message)
		return
	}
	del, err := toDelete(msgs, res.Payload, p.m.ReportBatchItemFailures)
	if err != nil {
		p.log.Warn("whole batch fails", "function", p.m.Function, "request_id", res.RequestID, "records", len(msgs), "error", err)
		return
	}
	p.log.Debug("batch done", "function", p.m.Function, "request_id", res.RequestID, "records", len(msgs), "deleted", len(del))
	if err := p.delete(ctx, del); err != nil {
		p.log.Warn("delete failed", "function", p.m.Function, "queue", p.queueURL, "error", err)
	}
}

func (p *poller) delete(ctx context.Context, msgs []sqstypes.Message) error {
	var errs []error
	for start := 0; start < len(msgs); start += 10 {
		chunk := msgs[start:min(start+10, len(msgs))]
		entries := make([]sqstypes.DeleteMessageBatchRequestEntry, len(chunk))
		for i, m := range chunk {
			entries[i] = sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle}
		}
		// Deletes outlive a shutdown: the function already succeeded.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		out, err := p.sqs.DeleteMessageBatch(dctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(p.queueURL), Entries: entries})
		cancel()
		if err != nil {
			errs = append(errs, fmt.Errorf("delete %d messages: %w", len(chunk), err))
			continue
		}
		for _, f := range out.Failed {
			i, _ := strconv.Atoi(aws.ToString(f.Id))
			errs = append(errs, fmt.Errorf("delete message %s: %s", aws.ToString(chunk[i].MessageId), aws.ToString(f.Message)))
		}
	}
	return errors.Join(errs...)
}

// sqsEvent builds the event Lambda's SQS poller sends: records in receive
// order, with the system attributes, message attributes in Lambda's shape
// (stringListValues and binaryListValues always present), eventSource
// aws:sqs, the queue ARN and the region.
func sqsEvent(msgs []sqstypes.Message, queueARN, region string) events.SQSEvent {
	ev := events.SQSEvent{Records: make([]events.SQSMessage, 0, len(msgs))}
	for _, m := range msgs {
		rec := events.SQSMessage{
			MessageId:              aws.ToString(m.MessageId),
			ReceiptHandle:          aws.ToString(m.ReceiptHandle),
			Body:                   aws.ToString(m.Body),
			Md5OfBody:              aws.ToString(m.MD5OfBody),
			Md5OfMessageAttributes: aws.ToString(m.MD5OfMessageAttributes),
			Attributes:             map[string]string{},
			MessageAttributes:      map[string]events.SQSMessageAttribute{},
			EventSourceARN:         queueARN,
			EventSource:            "aws:sqs",
			AWSRegion:              region,
		}
		for k, v := range m.Attributes {
			rec.Attributes[k] = v
		}
		for k, v := range m.MessageAttributes {
			a := events.SQSMessageAttribute{
				DataType:         aws.ToString(v.DataType),
				StringValue:      v.StringValue,
				BinaryValue:      v.BinaryValue,
				StringListValues: v.StringListValues,
				BinaryListValues: v.BinaryListValues,
			}
			if a.StringListValues == nil {
				a.StringListValues = []string{}
			}
			if a.BinaryListValues == nil {
				a.BinaryListValues = [][]byte{}
			}
			rec.MessageAttributes[k] = a
		}
		ev.Records = append(ev.Records, rec)
	}
	return ev
}

// traceHeaderOf returns the AWSTraceHeader of the first record that has one
// (the producer's trace continues into the function), or a new trace header.
func traceHeaderOf(msgs []sqstypes.Message) string {
	for _, m := range msgs {
		if h := m.Attributes[string(sqstypes.MessageSystemAttributeNameAWSTraceHeader)]; h != "" {
			return h
		}
	}
	return newTraceHeader()
}

// errWholeBatch marks a partial batch response that fails the whole batch.
var errWholeBatch = errors.New("invalid partial batch response")

// toDelete applies the event source mapping's rules to a successful invoke's
// response. Without ReportBatchItemFailures every message is deleted. With it,
// an empty or null response, {} or an empty/null batchItemFailures list
// deletes all; otherwise every message except the listed ids is deleted. A
// response that is not JSON or not an object, a list that is not a list, or
// an item whose itemIdentifier is missing, not a non-empty string, or not a
// message of this batch fails the whole batch (nothing is deleted).
func toDelete(msgs []sqstypes.Message, response []byte, reportFailures bool) ([]sqstypes.Message, error) {
	if !reportFailures {
		return msgs, nil
	}
	trimmed := bytes.TrimSpace(response)
	if len(trimmed) == 0 || string(trimmed) == "null" {
		return msgs, nil
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &doc); err != nil {
		return nil, fmt.Errorf("%w: %v", errWholeBatch, err)
	}
	raw, ok := doc["batchItemFailures"]
	if !ok || string(raw) == "null" {
		return msgs, nil
	}
	var items []map[string]json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, fmt.Errorf("%w: batchItemFailures: %v", errWholeBatch, err)
	}
	inBatch := make(map[string]bool, len(msgs))
	for _, m := range msgs {
		inBatch[aws.ToString(m.MessageId)] = true
	}
	failed := map[string]bool{}
	for i, item := range items {
		var id string
		if err := json.Unmarshal(item["itemIdentifier"], &id); err != nil || strings.TrimSpace(id) == "" {
			return nil, fmt.Errorf("%w: item %d has no itemIdentifier", errWholeBatch, i)
		}
		if !inBatch[id] {
			return nil, fmt.Errorf("%w: itemIdentifier %q is not in the batch", errWholeBatch, id)
		}
		failed[id] = true
	}
	del := make([]sqstypes.Message, 0, len(msgs)-len(failed))
	for _, m := range msgs {
		if !failed[aws.ToString(m.MessageId)] {
			del = append(del, m)
		}
	}
	return del, nil
}
