// Command dlq-alarm-handler is the Lambda function subscribed to the alarm
// topic: when a dead-letter queue's alarm fires it samples the queue without
// consuming it and tells on-call which messages died and why; when the alarm
// clears it says so. main only wires configuration and clients.
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/offload/offload/internal/awsenv"
	"github.com/offload/offload/pkg/dlq"
	"github.com/offload/offload/pkg/idempotency"
	"github.com/offload/offload/pkg/logging"
	"github.com/offload/offload/pkg/tracing"
)

func main() {
	if err := realMain(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "dlq-alarm-handler:", err)
		os.Exit(1)
	}
}

func realMain(ctx context.Context) error {
	cfg, err := loadSettings(os.Getenv)
	if err != nil {
		return err
	}
	log := logging.New(logging.WithLevel(cfg.LogLevel))
	awsCfg, err := awsenv.Load(os.Getenv)
	if err != nil {
		return fmt.Errorf("load AWS config: %w", err)
	}
	// One tracer provider per container, passed to everything that traces.
	tp := tracing.ProviderFromEnv()
	tracing.InstrumentAWS(&awsCfg, tp)
	store, err := idempotency.NewDynamoDB(dynamodb.NewFromConfig(awsCfg), cfg.TableName, idempotency.WithRetention(cfg.Retention))
	if err != nil {
		return fmt.Errorf("build idempotency store: %w", err)
	}
	notifiers := []namedNotifier{{"sns", dlq.SNSNotifier{Client: sns.NewFromConfig(awsCfg), TopicARN: cfg.TopicARN}}}
	if cfg.WebhookSecretARN != "" {
		notifiers = append(notifiers, namedNotifier{"webhook", dlq.NewWebhookNotifier(secretsmanager.NewFromConfig(awsCfg), cfg.WebhookSecretARN, nil)})
	}
	h := &handler{
		env:        cfg.Environment,
		sampler:    dlq.NewSampler(sqs.NewFromConfig(awsCfg), 5*time.Second),
		sampleSize: cfg.SampleSize,
		deadQueues: cfg.DeadLetterQueues,
		store:      store,
		notifiers:  notifiers,
		log:        log,
	}
	log.WithField("dead_letter_queues", len(cfg.DeadLetterQueues)).Info("dlq-alarm-handler ready")
	lambda.Start(h.handle)
	return nil
}
