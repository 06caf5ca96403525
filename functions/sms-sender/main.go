// Command sms-sender is the Lambda function behind the sms queue: it sends
// each SMS request at most once through the configured provider (Amazon SNS
// or Twilio). main only wires configuration and clients; handler.go does the
// work.
package main

import (
	"context"
	"fmt"
	"net/http"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/sirupsen/logrus"

	"github.com/offload/offload/internal/awsenv"
	"github.com/offload/offload/pkg/batch"
	"github.com/offload/offload/pkg/idempotency"
	"github.com/offload/offload/pkg/logging"
	"github.com/offload/offload/pkg/message"
	"github.com/offload/offload/pkg/metrics"
	"github.com/offload/offload/pkg/sms"
	"github.com/offload/offload/pkg/tracing"
)

func main() {
	if err := realMain(context.Background()); err != nil {
		// An init failure: Lambda reports it and retries the cold start.
		fmt.Fprintln(os.Stderr, "sms-sender:", err)
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

	var provider sms.Provider
	switch cfg.Provider {
	case "sns":
		provider = sms.NewSNS(sns.NewFromConfig(awsCfg))
	case "twilio":
		creds := sms.NewSecretCredentials(secretsmanager.NewFromConfig(awsCfg), cfg.TwilioSecretARN, cfg.SecretTTL)
		opts := []sms.TwilioOption{sms.WithHTTPClient(&http.Client{Timeout: cfg.ProviderTimeout, Transport: tracing.Transport(tp, nil)})}
		if cfg.TwilioURL != "" {
			opts = append(opts, sms.WithTwilioURL(cfg.TwilioURL))
		}
		provider = sms.NewTwilio(creds, opts...)
	}
	store, err := idempotency.NewDynamoDB(dynamodb.NewFromConfig(awsCfg), cfg.TableName, idempotency.WithRetention(cfg.Retention))
	if err != nil {
		return fmt.Errorf("build idempotency store: %w", err)
	}
	sender, err := sms.NewSender(provider, store,
		sms.WithRate(cfg.RatePerSecond),
		sms.WithResendOnUnknown(cfg.ResendOnUnknown),
		sms.WithSendTimeout(cfg.ProviderTimeout, sms.DefaultSendMargin),
		sms.WithUnrecordedHandler(func(r sms.Request, rec sms.Receipt, err error) {
			log.WithFields(logrus.Fields{"request_id": r.RequestID, "to": sms.MaskNumber(r.To), "provider_id": rec.ID}).WithError(err).
				Error("sms sent but its completion could not be recorded; a redelivery will be reported, not resent")
		}),
	)
	if err != nil {
		return err
	}
	h := &handler{sender: sender,
		metrics: metrics.New(os.Stdout, "offload", map[string]string{"Function": "sms-sender", "Environment": cfg.Environment})}

	sqsClient := sqs.NewFromConfig(awsCfg)
	proc, err := batch.New(h.handle,
		batch.WithTracer(tracing.NewTracer(tp)),
		batch.WithConcurrency(cfg.Concurrency),
		batch.WithDeadLetter(sqsClient, cfg.DLQURL),
		batch.WithDeadLetterMaxBytes(cfg.DLQMaxBytes),
		batch.WithMaxReceiveCount(cfg.MaxReceiveCount),
		batch.WithBackoff(sqsClient, batch.ExponentialBackoff(cfg.BackoffBase, cfg.BackoffMax)),
		batch.Accept(message.TypeSMS, "1"),
		batch.WithLogger(log),
	)
	if err != nil {
		return fmt.Errorf("build batch processor: %w", err)
	}
	log.WithFields(logrus.Fields{"provider": provider.Name(), "rate_per_second": cfg.RatePerSecond, "resend_on_unknown": cfg.ResendOnUnknown, "provider_timeout": cfg.ProviderTimeout.String()}).Info("sms-sender ready")
	lambda.Start(proc.Process)
	return nil
}
