// Package function wires every offload Lambda function the same way, so that
// a function's main.go only names its settings and builds its own clients and
// handler:
//
//	func main() { function.Main("audit-receiver", build) }
//
//	func build(w *function.Wiring[settings]) (any, error) {
//		h := &handler{store: audit.NewStore(dynamodb.NewFromConfig(w.AWS), w.Settings.TableName), metrics: w.Metrics}
//		return w.Processor(h.handle, processorOptions(w.Settings, sqs.NewFromConfig(w.AWS), w.Log)...)
//	}
//
// Main reads the settings from the environment (internal/envconfig: one
// struct per function, embedding Common and, for queue consumers, Consumer),
// builds the logger (pkg/logging, at LOG_LEVEL), the tracer provider
// (pkg/tracing: OpenTelemetry, exported to X-Ray), the AWS configuration from
// Lambda's environment (internal/awsenv) instrumented with that provider, and
// the metrics recorder once per container, calls build and starts Lambda with the handler it returns,
// after one "<name> ready" line that lists every setting.
// Handlers log through logging.FromLambda (pkg/batch does it for consumers),
// so every line carries the invocation's request_id.
package function

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/sirupsen/logrus"

	"github.com/offload/offload/internal/awsenv"
	"github.com/offload/offload/internal/envconfig"
	"github.com/offload/offload/pkg/batch"
	"github.com/offload/offload/pkg/idempotency"
	"github.com/offload/offload/pkg/logging"
	"github.com/offload/offload/pkg/metrics"
	"github.com/offload/offload/pkg/tracing"
)

// Common are the settings every function reads.
type Common struct {
	Environment string `env:"OFFLOAD_ENV" default:"unknown" doc:"environment name (local, dev, …), in metrics and notifications"`
	LogLevel    string `env:"LOG_LEVEL" oneof:"trace debug info warn warning error fatal panic" doc:"logrus level; unset: info"`
}

func (c Common) common() Common { return c }

// Settings is a function's settings struct: it embeds Common. It may have a
// Validate method for rules that join several variables; Load reports its
// error with the others.
type Settings interface{ common() Common }

// Load reads S from getenv (os.Getenv in Main, a map's lookup in tests) and
// reports every problem at once: envconfig's, then S's Validate.
func Load[S Settings](getenv func(string) string) (S, error) {
	var s S
	err := envconfig.Load(getenv, &s)
	if v, ok := any(s).(interface{ Validate() error }); ok {
		err = errors.Join(err, v.Validate())
	}
	return s, err
}

// Wiring is what Main builds once per container for a function's build.
// Its constructors (IdempotencyStore) keep their first error for Main to
// report with build's, so build need not check each.
type Wiring[S Settings] struct {
	// Name is the function's folder under functions/.
	Name     string
	Settings S
	// Log is the base logger; handlers derive theirs with logging.FromLambda.
	Log *logrus.Logger
	// AWS is the SDK configuration, its calls traced with Tracing: build
	// every client from it.
	AWS aws.Config
	// Tracing is the container's tracer provider (tracing.ProviderFromEnv).
	Tracing *tracing.Provider
	// Metrics writes embedded-metric-format lines with the Function and
	// Environment dimensions.
	Metrics *metrics.Recorder

	err error
}

// HTTPClient returns the client for a third-party HTTP API (an SMS
// provider, a webhook): bounded by timeout and traced (tracing.Transport).
func (w *Wiring[S]) HTTPClient(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: tracing.Transport(w.Tracing, nil)}
}

// IdempotencyStore is the DynamoDB idempotency store on table, keeping
// records for retention. Should it fail, Main reports why once build
// returns.
func (w *Wiring[S]) IdempotencyStore(table string, retention time.Duration) *idempotency.DynamoDBStore {
	store, err := idempotency.NewDynamoDB(dynamodb.NewFromConfig(w.AWS), table, idempotency.WithRetention(retention))
	if err != nil && w.err == nil {
		w.err = fmt.Errorf("build idempotency store: %w", err)
	}
	return store
}

// Main runs the function name: it wires it (see the package documentation),
// calls build and hands the handler build returns to lambda.Start. An
// error before that is printed to stderr and exits the process with status
// 1: Lambda reports the init failure and retries the cold start.
func Main[S Settings](name string, build func(*Wiring[S]) (any, error)) {
	ctx := context.Background()
	h, err := wire(ctx, name, os.Getenv, os.Stdout, build)
	if err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
		os.Exit(1)
	}
	lambda.Start(h)
}

// wire is Main up to lambda.Start; logs and metrics go to out.
func wire[S Settings](ctx context.Context, name string, getenv func(string) string, out io.Writer, build func(*Wiring[S]) (any, error)) (any, error) {
	s, err := Load[S](getenv)
	if err != nil {
		return nil, err
	}
	common := s.common()
	w := Wiring[S]{Name: name, Settings: s, Log: logging.New(logging.WithLevel(common.LogLevel), logging.WithOutput(out)),
		Metrics: metrics.New(out, "offload", map[string]string{"Function": name, "Environment": common.Environment})}
	if w.AWS, err = awsenv.Load(getenv); err != nil {
		return nil, fmt.Errorf("load AWS config: %w", err)
	}
	w.Tracing = tracing.ProviderFromEnv()
	tracing.InstrumentAWS(&w.AWS, w.Tracing)
	h, err := build(&w)
	if err = errors.Join(w.err, err); err != nil {
		return nil, err
	}
	ready := logrus.Fields{}
	for k, v := range envconfig.Values(s) {
		ready[strings.ToLower(k)] = v // masked like every field: secret ARNs show as [REDACTED]
	}
	w.Log.WithFields(ready).Info(name + " ready")
	return h, nil
}

// Consumer are the settings of a function behind an SQS queue: where its
// batch processor sends permanent failures, and the queue's limits it
// must know.
type Consumer struct {
	DLQURL          string `env:"DLQ_URL,required" doc:"the trigger queue's DLQ: permanent failures are sent there at once, with their reason"`
	DLQMaxBytes     int    `env:"DLQ_MAX_MESSAGE_BYTES" default:"262144" min:"1024" max:"1048576" doc:"the DLQ's maximum message size: dead letters are trimmed to it (reason first, then copied attributes; the body is never cut)"`
	MaxReceiveCount int    `env:"MAX_RECEIVE_COUNT" min:"1" max:"1000" doc:"the trigger queue's maxReceiveCount: a record still failing on that receive is dead-lettered with its reason; unset: not known"`
}

// SQSAPI is what a consumer's batch processor needs from SQS.
type SQSAPI interface {
	batch.DeadLetterAPI
	batch.VisibilityAPI
}

// Options are the batch processor options every consumer gets from c: dead
// letters to DLQ_URL trimmed to DLQ_MAX_MESSAGE_BYTES, the queue's
// maxReceiveCount and the logger. The function adds its own (concurrency,
// backoff, the message versions it accepts).
func (c Consumer) Options(client SQSAPI, log logrus.FieldLogger) []batch.Option {
	return []batch.Option{
		batch.WithDeadLetter(client, c.DLQURL),
		batch.WithDeadLetterMaxBytes(c.DLQMaxBytes),
		batch.WithMaxReceiveCount(c.MaxReceiveCount),
		batch.WithLogger(log),
	}
}

// Processor builds a consumer's batch processor, its records traced with
// w.Tracing, and returns its Process method, the handler a consumer's build
// returns.
func (w *Wiring[S]) Processor(h batch.Handler, opts ...batch.Option) (any, error) {
	proc, err := batch.New(h, append([]batch.Option{batch.WithTracer(tracing.NewTracer(w.Tracing))}, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("build batch processor: %w", err)
	}
	return proc.Process, nil
}
