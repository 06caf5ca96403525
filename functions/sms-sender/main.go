// Command sms-sender is the Lambda function behind the sms queue: it sends
// each SMS request at most once through the configured provider (Amazon SNS
// or Twilio). main only wires configuration and clients (internal/function);
// handler.go does the work.
package main

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/sirupsen/logrus"

	"github.com/offload/offload/internal/function"
	"github.com/offload/offload/pkg/batch"
	"github.com/offload/offload/pkg/logging"
	"github.com/offload/offload/pkg/message"
	"github.com/offload/offload/pkg/sms"
)

func main() { function.Main("sms-sender", build) }

// newProvider is the SMS provider SMS_PROVIDER names.
func newProvider(w *function.Wiring[settings]) sms.Provider {
	cfg := w.Settings
	if cfg.Provider == "sns" {
		return sms.NewSNS(sns.NewFromConfig(w.AWS))
	}
	creds := sms.NewSecretCredentials(secretsmanager.NewFromConfig(w.AWS), cfg.TwilioSecretARN, cfg.SecretTTL)
	opts := []sms.TwilioOption{sms.WithHTTPClient(w.HTTPClient(cfg.ProviderTimeout))}
	if cfg.TwilioURL != "" {
		opts = append(opts, sms.WithTwilioURL(cfg.TwilioURL))
	}
	return sms.NewTwilio(creds, opts...)
}

// logUnrecorded reports a text that was sent but whose completion the
// idempotency store could not record, with the record's logger.
func logUnrecorded(ctx context.Context, r sms.Request, rec sms.Receipt, err error) {
	logging.FromContext(ctx).WithFields(logrus.Fields{logging.FieldSMSRequestID: r.RequestID, "to": sms.MaskNumber(r.To), "provider_id": rec.ID}).WithError(err).
		Error("sms sent but its completion could not be recorded; a redelivery will be reported, not resent")
}

func build(w *function.Wiring[settings]) (any, error) {
	cfg := w.Settings
	sender, err := sms.NewSender(newProvider(w), w.IdempotencyStore(cfg.TableName, cfg.Retention),
		sms.WithRate(cfg.RatePerSecond),
		sms.WithResendOnUnknown(cfg.ResendOnUnknown),
		sms.WithSendTimeout(cfg.ProviderTimeout, sms.DefaultSendMargin),
		sms.WithUnrecordedHandler(logUnrecorded))
	if err != nil {
		return nil, err
	}
	client := sqs.NewFromConfig(w.AWS)
	h := &handler{sender: sender, metrics: w.Metrics}
	return w.Processor(h.handle, append(cfg.Consumer.Options(client, w.Log),
		batch.WithConcurrency(cfg.Concurrency),
		batch.WithFirstEnqueueTime(), // a redriven request's age survives (sms.ExpiredError)
		batch.WithBackoff(client, batch.ExponentialBackoff(cfg.BackoffBase, cfg.BackoffMax)),
		batch.Accept(message.TypeSMS, "1"))...)
}
