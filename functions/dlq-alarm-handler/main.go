// Command dlq-alarm-handler is the Lambda function subscribed to the alarm
// topic: when a dead-letter queue's alarm fires it samples the queue without
// consuming it and tells on-call which messages died and why; when the alarm
// clears it says so. main only wires configuration and clients
// (internal/function); handler.go does the work.
package main

import (
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/offload/offload/internal/function"
	"github.com/offload/offload/pkg/dlq"
)

func main() { function.Main("dlq-alarm-handler", build) }

// notifiers are the notifications topic and, when WEBHOOK_SECRET_ARN is
// set, the webhook.
func notifiers(w *function.Wiring[settings]) []namedNotifier {
	cfg := w.Settings
	out := []namedNotifier{{"sns", dlq.SNSNotifier{Client: sns.NewFromConfig(w.AWS), TopicARN: cfg.TopicARN}}}
	if cfg.WebhookSecretARN != "" {
		out = append(out, namedNotifier{"webhook", dlq.NewWebhookNotifier(secretsmanager.NewFromConfig(w.AWS), cfg.WebhookSecretARN, w.HTTPClient(cfg.WebhookTimeout))})
	}
	return out
}

func build(w *function.Wiring[settings]) (any, error) {
	cfg := w.Settings
	h := &handler{env: cfg.Environment, notifiers: notifiers(w), log: w.Log, leaseMargin: cfg.LeaseMargin,
		store:   w.IdempotencyStore(cfg.TableName, cfg.Retention),
		sampler: dlq.NewSampler(sqs.NewFromConfig(w.AWS), cfg.SampleVisibility), sampleSize: cfg.SampleSize, deadQueues: cfg.DeadLetterQueues}
	return h.handle, nil
}
