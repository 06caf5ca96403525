package localrt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/uuid"
)

// deliver sends one notification to a topic's subscribers as SNS would.
// A topic without Lambda subscribers is published to through SNS (the
// emulator fans out to queues and records the rest). A topic with Lambda
// subscribers is delivered here instead, since the emulator's own Lambda
// delivery tries Docker: Lambda subscribers the runtime runs get an
// events.SNSEvent (an asynchronous invoke: invokeAsync), SQS
// subscribers the SNS envelope (or the raw message with RawMessageDelivery);
// other protocols are logged and skipped.
func (r *Runtime) deliver(ctx context.Context, topicARN, subject, message string) error {
	var subs []snstypes.Subscription
	p := sns.NewListSubscriptionsByTopicPaginator(r.clients.SNS, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(topicARN)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list subscriptions of %s: %w", topicARN, err)
		}
		subs = append(subs, page.Subscriptions...)
	}
	hasLambda := false
	for _, s := range subs {
		if aws.ToString(s.Protocol) == "lambda" {
			hasLambda = true
		}
	}
	if !hasLambda {
		if _, err := r.clients.SNS.Publish(ctx, &sns.PublishInput{
			TopicArn: aws.String(topicARN), Subject: aws.String(subject), Message: aws.String(message),
		}); err != nil {
			return fmt.Errorf("publish to %s: %w", topicARN, err)
		}
		return nil
	}
	messageID := uuid.NewString()
	now := time.Now().UTC()
	var (
		errs []error
		mu   sync.Mutex
		wg   sync.WaitGroup
	)
	defer wg.Wait()
	for _, s := range subs {
		endpoint := aws.ToString(s.Endpoint)
		subARN := aws.ToString(s.SubscriptionArn)
		if p := aws.ToString(s.Protocol); (p == "lambda" || p == "sqs") && !r.subscriptionAccepts(ctx, subARN, message) {
			continue
		}
		switch aws.ToString(s.Protocol) {
		case "lambda":
			if !r.runs(endpoint) {
				r.cfg.Logger.Info("SNS subscriber not run locally", "topic", topicARN, "function", endpoint)
				continue
			}
			payload, err := json.Marshal(snsEvent(topicARN, subARN, messageID, subject, message, now))
			if err != nil {
				return fmt.Errorf("encode SNS event for %s: %w", endpoint, err)
			}
			// Each subscriber's retries run on their own, as SNS fans out.
			wg.Go(func() {
				if err := r.invokeAsync(ctx, endpoint, payload, now); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			})
		case "sqs":
			if err := r.sendToQueue(ctx, s, topicARN, messageID, subject, message, now); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		default:
			r.cfg.Logger.Info("SNS subscriber skipped locally", "topic", topicARN, "protocol", aws.ToString(s.Protocol))
		}
	}
	wg.Wait()
	return errors.Join(errs...)
}

// snsEvent is the event SNS sends a Lambda subscriber.
func snsEvent(topicARN, subscriptionARN, messageID, subject, message string, at time.Time) events.SNSEvent {
	return events.SNSEvent{Records: []events.SNSEventRecord{{
		EventVersion:         "1.0",
		EventSubscriptionArn: subscriptionARN,
		EventSource:          "aws:sns",
		SNS: events.SNSEntity{
			Signature:         "EXAMPLE",
			MessageID:         messageID,
			Type:              "Notification",
			TopicArn:          topicARN,
			MessageAttributes: map[string]any{},
			SignatureVersion:  "1",
			Timestamp:         at,
			SigningCertURL:    "https://sns.local/SimpleNotificationService.pem",
			Message:           message,
			UnsubscribeURL:    "https://sns.local/?Action=Unsubscribe&SubscriptionArn=" + subscriptionARN,
			Subject:           subject,
		},
	}}}
}

// snsEnvelope is the body SNS puts on a subscribed queue.
type snsEnvelope struct {
	Type             string `json:"Type"`
	MessageID        string `json:"MessageId"`
	TopicArn         string `json:"TopicArn"`
	Subject          string `json:"Subject,omitempty"`
	Message          string `json:"Message"`
	Timestamp        string `json:"Timestamp"`
	SignatureVersion string `json:"SignatureVersion"`
	Signature        string `json:"Signature"`
	SigningCertURL   string `json:"SigningCertURL"`
	UnsubscribeURL   string `json:"UnsubscribeURL"`
}

func (r *Runtime) sendToQueue(ctx context.Context, s snstypes.Subscription, topicARN, messageID, subject, message string, at time.Time) error {
	queueARN := aws.ToString(s.Endpoint)
	raw := false
	if attrs, err := r.clients.SNS.GetSubscriptionAttributes(ctx, &sns.GetSubscriptionAttributesInput{SubscriptionArn: s.SubscriptionArn}); err == nil {
		raw = attrs.Attributes["RawMessageDelivery"] == "true"
	}
	body := message
	if !raw {
		b, err := json.Marshal(snsEnvelope{
			Type: "Notification", MessageID: messageID, TopicArn: topicARN, Subject: subject, Message: message,
			Timestamp: at.Format("2006-01-02T15:04:05.000Z"), SignatureVersion: "1", Signature: "EXAMPLE",
			SigningCertURL: "https://sns.local/SimpleNotificationService.pem",
			UnsubscribeURL: "https://sns.local/?Action=Unsubscribe&SubscriptionArn=" + aws.ToString(s.SubscriptionArn),
		})
		if err != nil {
			return fmt.Errorf("encode SNS envelope for %s: %w", queueARN, err)
		}
		body = string(b)
	}
	url, err := r.clients.SQS.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(queueNameFromARN(queueARN))})
	if err != nil {
		return fmt.Errorf("queue URL of subscriber %s: %w", queueARN, err)
	}
	if _, err := r.clients.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: url.QueueUrl, MessageBody: aws.String(body)}); err != nil {
		return fmt.Errorf("deliver to subscriber %s: %w", queueARN, err)
	}
	return nil
}
