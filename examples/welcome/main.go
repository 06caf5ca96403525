// Command welcome is offload's smallest consumer, kept as the worked example
// of docs/development.md, "How to add a consumer": a Lambda function behind a
// queue of sign-ups that welcomes each user once per delivery it
// acknowledges. It is wired exactly as the functions under functions/ are
// (internal/function: settings struct, function.Main, Wiring.Processor)
// and built, vetted and unit-tested with the repository (make test, make
// lint), but not deployed: it has no entry in terraform/stack, so the
// functions' env-contract test (TestSettingsMatchTheStack) does not apply to
// it. Its Greeter only logs.
package main

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/sirupsen/logrus"

	"github.com/offload/offload/internal/function"
	"github.com/offload/offload/pkg/batch"
)

func main() { function.Main("welcome", build) }

// build makes the clients and the handler once per container; function.Main
// has read the settings and built the logger and the AWS configuration.
func build(w *function.Wiring[settings]) (any, error) {
	h := &handler{greeter: logGreeter{w.Log}}
	return w.Processor(h.handle, processorOptions(w.Settings, sqs.NewFromConfig(w.AWS), w.Log)...)
}

// processorOptions configures the batch processor from cfg: the consumer's
// options (permanent failures dead-lettered to DLQ_URL with their reason,
// the receive count), records of a batch processed concurrently, transient
// failures retried with exponential backoff.
func processorOptions(cfg settings, client function.SQSAPI, log logrus.FieldLogger) []batch.Option {
	return append(cfg.Consumer.Options(client, log),
		batch.WithConcurrency(cfg.Concurrency),
		batch.WithBackoff(client, batch.ExponentialBackoff(cfg.BackoffBase, cfg.BackoffMax)))
}

// logGreeter "sends" a welcome by logging it: the example stops where a real
// consumer would call its email or push service.
type logGreeter struct{ log logrus.FieldLogger }

// Greet logs the welcome with the user id (the name is not logged).
func (g logGreeter) Greet(_ context.Context, s Signup) error {
	g.log.WithField("user_id", s.UserID).Info("welcome")
	return nil
}
