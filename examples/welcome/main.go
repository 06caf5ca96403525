// Command welcome is offload's smallest consumer, kept as the worked example
// of docs/development.md, "How to add a consumer": a Lambda function behind a
// queue of sign-ups that welcomes each user once per delivery it
// acknowledges. It is built, vetted and unit-tested with the repository (make
// test, make lint) but not deployed; its Greeter only logs.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/sirupsen/logrus"

	"github.com/offload/offload/pkg/batch"
	"github.com/offload/offload/pkg/logging"
	"github.com/offload/offload/pkg/tracing"
)

func main() {
	if err := realMain(context.Background()); err != nil {
		// An init failure: Lambda reports it and retries the cold start.
		fmt.Fprintln(os.Stderr, "welcome:", err)
		os.Exit(1)
	}
}

// realMain builds the logger, the clients and the processor once per
// container, then serves invocations.
func realMain(ctx context.Context) error {
	dlqURL := os.Getenv("DLQ_URL")
	if dlqURL == "" {
		return errors.New("DLQ_URL is required")
	}
	log := logging.New()
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return fmt.Errorf("load AWS config: %w", err)
	}
	tracing.InstrumentAWS(&awsCfg)
	sqsClient := sqs.NewFromConfig(awsCfg)
	h := &handler{greeter: logGreeter{log}}
	proc, err := batch.New(h.handle, processorOptions(sqsClient, dlqURL, log)...)
	if err != nil {
		return fmt.Errorf("build batch processor: %w", err)
	}
	lambda.Start(proc.Process)
	return nil
}

// sqsAPI is what the batch processor needs from SQS.
type sqsAPI interface {
	batch.DeadLetterAPI
	batch.VisibilityAPI
}

// processorOptions configures the batch processor: records of a batch
// processed concurrently, permanent failures dead-lettered to dlqURL with
// their reason, transient ones retried with exponential backoff.
func processorOptions(client sqsAPI, dlqURL string, log logrus.FieldLogger) []batch.Option {
	return []batch.Option{
		batch.WithConcurrency(4),
		batch.WithDeadLetter(client, dlqURL),
		batch.WithBackoff(client, batch.ExponentialBackoff(5*time.Second, 10*time.Minute)),
		batch.WithLogger(log),
	}
}

// logGreeter "sends" a welcome by logging it: the example stops where a real
// consumer would call its email or push service.
type logGreeter struct{ log logrus.FieldLogger }

// Greet logs the welcome with the user id (the name is not logged).
func (g logGreeter) Greet(_ context.Context, s Signup) error {
	g.log.WithField("user_id", s.UserID).Info("welcome")
	return nil
}
