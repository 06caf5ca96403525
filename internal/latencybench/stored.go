package latencybench

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// tally is what one queue holds against the records answered 2xx for it.
type tally struct {
	// Messages is how many messages the queue holds; Want how many distinct
	// records were answered for it.
	Messages, Want int
	// Missing is how many answered records are not on the queue (lost);
	// Twice how many extra copies of records are (a send the SDK retried
	// after its answer was lost: SQS is at-least-once); Strangers how many
	// messages are no request of this run's.
	Missing, Twice, Strangers int
}

func (t tally) ok() bool { return t.Missing == 0 && t.Strangers == 0 }

func (t tally) String() string {
	return fmt.Sprintf("%d messages for %d records: %d missing, %d stored twice, %d unknown", t.Messages, t.Want, t.Missing, t.Twice, t.Strangers)
}

// bodyID is a queued body's record id: an audit record's messageId or an SMS
// request's requestId.
func bodyID(body string) string {
	var b struct {
		MessageID string `json:"messageId"`
		RequestID string `json:"requestId"`
	}
	if json.Unmarshal([]byte(body), &b) != nil {
		return ""
	}
	if b.MessageID != "" {
		return b.MessageID
	}
	return b.RequestID
}

// count compares ids (each record answered 2xx) with what a queue holds.
func count(want []string, held map[string]int) tally {
	t := tally{Want: len(want)}
	for _, n := range held {
		t.Messages += n
	}
	rest := make(map[string]int, len(held))
	for id, n := range held {
		rest[id] = n
	}
	for _, id := range want {
		switch n := rest[id]; {
		case n == 0:
			t.Missing++
		default:
			t.Twice += n - 1
		}
		delete(rest, id)
	}
	for _, n := range rest {
		t.Strangers += n
	}
	return t
}

// held counts the messages on the queue at url (nothing else consumes it;
// the bench deletes the queue after the run) by record id, deleting each
// once read. It reads until it has seen as many distinct messages as the
// queue said it held: an answer to a receive can be lost on a busy machine
// and the SDK then receives again, so the messages that answer carried come
// back only when their (short) visibility timeout ends, and are read then.
func (st *stack) held(ctx context.Context, url string) (map[string]int, error) {
	a, err := st.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameApproximateNumberOfMessages, types.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
	if err != nil {
		return nil, fmt.Errorf("depth of %s: %w", url, err)
	}
	depth := 0
	for _, v := range a.Attributes {
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, fmt.Errorf("depth of %s: %q: %w", url, v, err)
		}
		depth += n
	}
	seen := map[string]string{} // SQS message id → record id
	deadline := time.Now().Add(3 * time.Minute)
	for len(seen) < depth {
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("read back %s: %d of its %d messages within 3 minutes", url, len(seen), depth)
		}
		out, err := st.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10,
			VisibilityTimeout: 10, WaitTimeSeconds: 1})
		if err != nil {
			return nil, fmt.Errorf("read back %s: %w", url, err)
		}
		if len(out.Messages) == 0 {
			continue
		}
		del := make([]types.DeleteMessageBatchRequestEntry, len(out.Messages))
		for i, m := range out.Messages {
			seen[aws.ToString(m.MessageId)] = bodyID(aws.ToString(m.Body))
			del[i] = types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle}
		}
		// Deleted, a message read once is not read again, and the receives
		// get faster as the queue empties.
		if _, err := st.sqs.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(url), Entries: del}); err != nil {
			return nil, fmt.Errorf("read back %s: %w", url, err)
		}
	}
	ids := map[string]int{}
	for _, id := range seen {
		ids[id]++
	}
	return ids, nil
}
