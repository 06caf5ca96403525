package harness

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	tttesting "github.com/gruntwork-io/terratest/modules/testing"
)

// poll is how often the Wait helpers look again.
const poll = 250 * time.Millisecond

// Send puts one message on a queue and returns its SQS message id.
func (s *Stack) Send(t tttesting.TestingT, queueURL, body string) string {
	id, err := s.SendE(context.Background(), queueURL, body)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// SendE is Send returning its error.
func (s *Stack) SendE(ctx context.Context, queueURL, body string) (string, error) {
	out, err := s.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(queueURL), MessageBody: aws.String(body)})
	if err != nil {
		return "", fmt.Errorf("send to %s: %w", queueURL, err)
	}
	return aws.ToString(out.MessageId), nil
}

// SendBatch puts up to ten messages on a queue in one call and returns their
// message ids in order.
func (s *Stack) SendBatch(t tttesting.TestingT, queueURL string, bodies ...string) []string {
	ids, err := s.SendBatchE(context.Background(), queueURL, bodies...)
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// SendBatchE is SendBatch returning its error.
func (s *Stack) SendBatchE(ctx context.Context, queueURL string, bodies ...string) ([]string, error) {
	entries := make([]sqstypes.SendMessageBatchRequestEntry, len(bodies))
	for i, b := range bodies {
		entries[i] = sqstypes.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String(b)}
	}
	out, err := s.SQS.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(queueURL), Entries: entries})
	if err != nil {
		return nil, fmt.Errorf("send batch to %s: %w", queueURL, err)
	}
	if len(out.Failed) > 0 {
		return nil, fmt.Errorf("send batch to %s: %d entries failed, first: %s", queueURL, len(out.Failed), aws.ToString(out.Failed[0].Message))
	}
	ids := make([]string, len(bodies))
	for _, e := range out.Successful {
		i, _ := strconv.Atoi(aws.ToString(e.Id))
		ids[i] = aws.ToString(e.MessageId)
	}
	return ids, nil
}

// WaitForItem waits until table holds an item whose partition key attribute
// keyName equals value, and returns it (the first, if the table has a sort
// key).
func (s *Stack) WaitForItem(t tttesting.TestingT, table, keyName, value string, timeout time.Duration) map[string]ddbtypes.AttributeValue {
	item, err := s.WaitForItemE(context.Background(), table, keyName, value, timeout)
	if err != nil {
		t.Fatal(err)
	}
	return item
}

// WaitForItemE is WaitForItem returning its error.
func (s *Stack) WaitForItemE(ctx context.Context, table, keyName, value string, timeout time.Duration) (map[string]ddbtypes.AttributeValue, error) {
	var item map[string]ddbtypes.AttributeValue
	err := waitFor(ctx, timeout, func() (bool, error) {
		out, err := s.DynamoDB.Query(ctx, &dynamodb.QueryInput{
			TableName:                 aws.String(table),
			KeyConditionExpression:    aws.String("#k = :v"),
			ExpressionAttributeNames:  map[string]string{"#k": keyName},
			ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":v": &ddbtypes.AttributeValueMemberS{Value: value}},
			ConsistentRead:            aws.Bool(true),
		})
		if err != nil {
			return false, err
		}
		if len(out.Items) > 0 {
			item = out.Items[0]
			return true, nil
		}
		return false, nil
	})
	if err != nil {
		return nil, fmt.Errorf("wait for item %s=%s in %s: %w", keyName, value, table, err)
	}
	return item, nil
}

// WaitForDLQMessage waits until a message whose body satisfies match is on
// the queue (a DLQ) and returns it. It only peeks: every message it looks at
// is made visible again at once.
func (s *Stack) WaitForDLQMessage(t tttesting.TestingT, dlqURL string, match func(body string) bool, timeout time.Duration) sqstypes.Message {
	m, err := s.WaitForDLQMessageE(context.Background(), dlqURL, match, timeout)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// WaitForDLQMessageE is WaitForDLQMessage returning its error.
func (s *Stack) WaitForDLQMessageE(ctx context.Context, dlqURL string, match func(body string) bool, timeout time.Duration) (sqstypes.Message, error) {
	var found sqstypes.Message
	err := waitFor(ctx, timeout, func() (bool, error) {
		msgs, err := s.QueueMessagesE(ctx, dlqURL)
		if err != nil {
			return false, err
		}
		for _, m := range msgs {
			if match(aws.ToString(m.Body)) {
				found = m
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		return found, fmt.Errorf("wait for a matching message in %s: %w", dlqURL, err)
	}
	return found, nil
}

// QueueMessagesE reads every message visible in queueURL (attributes
// included) and leaves them there: each is hidden while the scan goes on, so
// that every receive returns messages not seen yet (SQS returns at most ten,
// and the emulator always the first ten), then made visible again. A
// receive whose answer is lost on a busy machine (the SDK then receives
// again) leaves its messages hidden until their visibility ends, out of
// reach of this scan's deferred release: the visibility is therefore short
// (10 s), so a scan repeated in a wait loop sees them again soon, rather
// than being blind to them for a minute.
func (s *Stack) QueueMessagesE(ctx context.Context, queueURL string) ([]sqstypes.Message, error) {
	var all []sqstypes.Message
	defer func() {
		for _, m := range all {
			_, _ = s.SQS.ChangeMessageVisibility(context.Background(), &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(queueURL), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0})
		}
	}()
	seen := map[string]bool{}
	for {
		out, err := s.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(queueURL), MaxNumberOfMessages: 10, VisibilityTimeout: 10, WaitTimeSeconds: 1,
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
			MessageAttributeNames:       []string{"All"},
		})
		if err != nil {
			return all, err
		}
		fresh := 0
		for _, m := range out.Messages {
			all = append(all, m) // every receipt handle is made visible again
			if id := aws.ToString(m.MessageId); !seen[id] {
				seen[id] = true
				fresh++
			}
		}
		if fresh == 0 {
			return dedupe(all), nil
		}
	}
}

// dedupe keeps the first copy of each message id.
func dedupe(msgs []sqstypes.Message) []sqstypes.Message {
	seen := map[string]bool{}
	out := make([]sqstypes.Message, 0, len(msgs))
	for _, m := range msgs {
		if id := aws.ToString(m.MessageId); !seen[id] {
			seen[id] = true
			out = append(out, m)
		}
	}
	return out
}

// DeleteMessage removes a message the test put somewhere (e.g. its own dead
// letter), by its body, so a deployed environment is left as found.
func (s *Stack) DeleteMessage(t tttesting.TestingT, queueURL string, match func(body string) bool, timeout time.Duration) {
	if err := s.DeleteMessageE(context.Background(), queueURL, match, timeout); err != nil {
		t.Fatal(err)
	}
}

// DeleteMessageE is DeleteMessage returning its error.
func (s *Stack) DeleteMessageE(ctx context.Context, queueURL string, match func(body string) bool, timeout time.Duration) error {
	return waitFor(ctx, timeout, func() (bool, error) {
		out, err := s.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(queueURL), MaxNumberOfMessages: 10, VisibilityTimeout: 5})
		if err != nil {
			return false, err
		}
		deleted := false
		for _, m := range out.Messages {
			if match(aws.ToString(m.Body)) {
				if _, err := s.SQS.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(queueURL), ReceiptHandle: m.ReceiptHandle}); err != nil {
					return false, err
				}
				deleted = true
				continue
			}
			_, _ = s.SQS.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(queueURL), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0})
		}
		return deleted, nil
	})
}

// WaitForQueueEmpty waits until a queue has no visible and no in-flight
// messages.
func (s *Stack) WaitForQueueEmpty(t tttesting.TestingT, queueURL string, timeout time.Duration) {
	if err := s.WaitForQueueEmptyE(context.Background(), queueURL, timeout); err != nil {
		t.Fatal(err)
	}
}

// WaitForQueueEmptyE is WaitForQueueEmpty returning its error.
func (s *Stack) WaitForQueueEmptyE(ctx context.Context, queueURL string, timeout time.Duration) error {
	err := waitFor(ctx, timeout, func() (bool, error) {
		out, err := s.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
			QueueUrl:       aws.String(queueURL),
			AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible},
		})
		if err != nil {
			return false, err
		}
		return out.Attributes["ApproximateNumberOfMessages"] == "0" && out.Attributes["ApproximateNumberOfMessagesNotVisible"] == "0", nil
	})
	if err != nil {
		return fmt.Errorf("wait for %s to be empty: %w", queueURL, err)
	}
	return nil
}

// Notification is one SNS message as a subscribed queue receives it.
type Notification struct {
	Type      string `json:"Type"`
	MessageID string `json:"MessageId"`
	TopicArn  string `json:"TopicArn"`
	Subject   string `json:"Subject"`
	Message   string `json:"Message"`
	Timestamp string `json:"Timestamp"`
}

// Subscription is a queue of the test's own, subscribed to a topic, to read
// what the topic sends.
type Subscription struct {
	stack    *Stack
	QueueURL string
	ARN      string
}

// SubscribeQueueToTopic creates a queue, subscribes it to the topic, and
// removes both when the stack comes down.
func (s *Stack) SubscribeQueueToTopic(t tttesting.TestingT, topicARN string) *Subscription {
	sub, err := s.SubscribeQueueToTopicE(context.Background(), topicARN)
	if err != nil {
		t.Fatal(err)
	}
	return sub
}

// SubscribeQueueToTopicE is SubscribeQueueToTopic returning its error.
func (s *Stack) SubscribeQueueToTopicE(ctx context.Context, topicARN string) (*Subscription, error) {
	name := s.Unique("notify")
	q, err := s.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name)})
	if err != nil {
		return nil, fmt.Errorf("create queue %s: %w", name, err)
	}
	s.Cleanup(func() error {
		_, err := s.SQS.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: q.QueueUrl})
		return err
	})
	attrs, err := s.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		return nil, fmt.Errorf("queue ARN of %s: %w", name, err)
	}
	queueARN := attrs.Attributes["QueueArn"]
	policy, _ := json.Marshal(map[string]any{
		"Version": "2012-10-17",
		"Statement": []map[string]any{{
			"Effect": "Allow", "Principal": map[string]string{"Service": "sns.amazonaws.com"},
			"Action": "sqs:SendMessage", "Resource": queueARN,
			"Condition": map[string]any{"ArnEquals": map[string]string{"aws:SourceArn": topicARN}},
		}},
	})
	if _, err := s.SQS.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: q.QueueUrl, Attributes: map[string]string{"Policy": string(policy)}}); err != nil {
		return nil, fmt.Errorf("allow %s to send to %s: %w", topicARN, name, err)
	}
	out, err := s.SNS.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(topicARN), Protocol: aws.String("sqs"), Endpoint: aws.String(queueARN), ReturnSubscriptionArn: true})
	if err != nil {
		return nil, fmt.Errorf("subscribe %s to %s: %w", name, topicARN, err)
	}
	s.Cleanup(func() error {
		_, err := s.SNS.Unsubscribe(context.Background(), &sns.UnsubscribeInput{SubscriptionArn: out.SubscriptionArn})
		return err
	})
	return &Subscription{stack: s, QueueURL: aws.ToString(q.QueueUrl), ARN: aws.ToString(out.SubscriptionArn)}, nil
}

// WaitForNotification waits for a notification satisfying match, consuming
// the ones it reads.
func (sub *Subscription) WaitForNotification(t tttesting.TestingT, match func(Notification) bool, timeout time.Duration) Notification {
	n, err := sub.WaitForNotificationE(context.Background(), match, timeout)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// WaitForNotificationE is WaitForNotification returning its error.
func (sub *Subscription) WaitForNotificationE(ctx context.Context, match func(Notification) bool, timeout time.Duration) (Notification, error) {
	var found Notification
	var seen []string
	err := waitFor(ctx, timeout, func() (bool, error) {
		out, err := sub.stack.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(sub.QueueURL), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			return false, err
		}
		ok := false
		for _, m := range out.Messages {
			_, _ = sub.stack.SQS.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(sub.QueueURL), ReceiptHandle: m.ReceiptHandle})
			var n Notification
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &n); err != nil {
				n = Notification{Message: aws.ToString(m.Body)} // raw delivery
			}
			seen = append(seen, n.Subject)
			if !ok && match(n) {
				found, ok = n, true
			}
		}
		return ok, nil
	})
	if err != nil {
		return found, fmt.Errorf("wait for a notification on %s (saw subjects %q): %w", sub.QueueURL, seen, err)
	}
	return found, nil
}

// waitFor calls check every poll interval until it reports done, fails with
// the same error past the timeout, or ctx ends.
func waitFor(ctx context.Context, timeout time.Duration, check func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		done, err := check()
		if done {
			return nil
		}
		if time.Now().After(deadline) {
			if err != nil {
				return fmt.Errorf("not within %s: %w", timeout, err)
			}
			return fmt.Errorf("not within %s", timeout)
		}
		select {
		case <-time.After(poll):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
