// Command audit-receiver is the Lambda function behind the audit queue: it
// stores each AuditMessage in the AuditMessages table once, however often it
// is delivered. main only wires configuration and clients; handler.go does
// the work.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/sirupsen/logrus"

	"github.com/offload/offload/internal/awsenv"
	"github.com/offload/offload/pkg/audit"
	"github.com/offload/offload/pkg/batch"
	"github.com/offload/offload/pkg/logging"
	"github.com/offload/offload/pkg/message"
	"github.com/offload/offload/pkg/metrics"
	"github.com/offload/offload/pkg/tracing"
)

func main() {
	if err := realMain(context.Background()); err != nil {
		// An init failure: Lambda reports it and retries the cold start.
		fmt.Fprintln(os.Stderr, "audit-receiver:", err)
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
	sqsClient := sqs.NewFromConfig(awsCfg)
	h := &handler{
		store:   audit.NewStore(dynamodb.NewFromConfig(awsCfg), cfg.TableName),
		metrics: metrics.New(os.Stdout, "offload", map[string]string{"Function": "audit-receiver", "Environment": cfg.Environment}),
	}
	proc, err := batch.New(h.handle, append(processorOptions(cfg, sqsClient, log), batch.WithTracer(tracing.NewTracer(tp)))...)
	if err != nil {
		return fmt.Errorf("build batch processor: %w", err)
	}
	log.WithField("table", cfg.TableName).Info("audit-receiver ready")
	lambda.Start(proc.Process)
	return nil
}

// sqsAPI is what the batch processor needs from SQS.
type sqsAPI interface {
	batch.DeadLetterAPI
	batch.VisibilityAPI
}

// processorOptions configures the batch processor from cfg: concurrency,
// dead letters (trimmed to the DLQ's size), the retry budget's backoff and the
// message versions audit-receiver understands.
func processorOptions(cfg settings, client sqsAPI, log logrus.FieldLogger) []batch.Option {
	return []batch.Option{
		batch.WithConcurrency(cfg.Concurrency),
		batch.WithDeadLetter(client, cfg.DLQURL),
		batch.WithDeadLetterMaxBytes(cfg.DLQMaxBytes),
		batch.WithMaxReceiveCount(cfg.MaxReceiveCount),
		batch.WithBackoff(client, batch.ExponentialBackoff(cfg.BackoffBase, cfg.BackoffMax)),
		batch.Accept(message.TypeAudit, "1"),
		batch.WithLogger(log),
	}
}
