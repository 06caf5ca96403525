// Command audit-receiver is the Lambda function behind the audit queue: it
// stores each AuditMessage in the AuditMessages table once, however often it
// is delivered. main only wires configuration and clients (internal/function);
// handler.go does the work.
package main

import (
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/sirupsen/logrus"

	"github.com/offload/offload/internal/function"
	"github.com/offload/offload/pkg/audit"
	"github.com/offload/offload/pkg/batch"
	"github.com/offload/offload/pkg/message"
)

func main() { function.Main("audit-receiver", build) }

// processorOptions configures the batch processor from cfg: the consumer's
// options (dead letters, receive count), concurrency, the retry budget's
// backoff and the message versions audit-receiver understands.
func processorOptions(cfg settings, client function.SQSAPI, log logrus.FieldLogger) []batch.Option {
	return append(cfg.Consumer.Options(client, log),
		batch.WithConcurrency(cfg.Concurrency),
		batch.WithBackoff(client, batch.ExponentialBackoff(cfg.BackoffBase, cfg.BackoffMax)),
		batch.Accept(message.TypeAudit, "1"))
}

func build(w *function.Wiring[settings]) (any, error) {
	h := &handler{store: audit.NewStore(dynamodb.NewFromConfig(w.AWS), w.Settings.TableName), metrics: w.Metrics}
	return w.Processor(h.handle, processorOptions(w.Settings, sqs.NewFromConfig(w.AWS), w.Log)...)
}
