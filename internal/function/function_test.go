package function

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/stretchr/testify/require"

	"github.com/offload/offload/internal/envconfig"
	"github.com/offload/offload/internal/testenv"
	"github.com/offload/offload/pkg/batch"
	"github.com/offload/offload/pkg/message"
)

type testSettings struct {
	Common
	Consumer
	Table     string `env:"TABLE,required" doc:"t"`
	SecretARN string `env:"THE_SECRET_ARN" doc:"s"`
	Mode      string `env:"MODE" default:"a" oneof:"a b" doc:"m"`
}

func (s testSettings) Validate() error {
	if s.Mode == "b" && s.SecretARN == "" {
		return errors.New("THE_SECRET_ARN is required with MODE b")
	}
	return nil
}

// lambdaEnv is kv plus what Lambda puts in every function's environment:
// the region and the execution role's credentials (awsenv.Load reads them).
func lambdaEnv(kv map[string]string) func(string) string {
	all := map[string]string{"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "token"}
	for k, v := range kv {
		all[k] = v
	}
	return testenv.Getenv(all)
}

// Every problem at once: the variables', Validate's, LOG_LEVEL's; build is
// not called.
func TestWireReportsEverySettingProblem(t *testing.T) {
	called := false
	_, err := wire(context.Background(), "fn", lambdaEnv(map[string]string{"MODE": "b", "LOG_LEVEL": "loud"}), &bytes.Buffer{},
		func(*Wiring[testSettings]) (any, error) { called = true; return nil, nil })
	require.False(t, called)
	for _, want := range []string{"DLQ_URL is required", "TABLE is required", "THE_SECRET_ARN is required with MODE b",
		`LOG_LEVEL must be trace, debug, info, warn, warning, error, fatal or panic, got "loud"`} {
		require.ErrorContains(t, err, want)
	}
}

// build gets the settings, a logger at LOG_LEVEL and metrics with the
// function's dimensions; one ready line lists every setting, masked.
func TestWireBuildsOnceAndLogsReady(t *testing.T) {
	var out bytes.Buffer
	h, err := wire(context.Background(), "fn", lambdaEnv(map[string]string{"TABLE": "t", "DLQ_URL": "https://sqs/dlq", "LOG_LEVEL": "debug", "OFFLOAD_ENV": "dev", "THE_SECRET_ARN": "arn:s"}), &out,
		func(w *Wiring[testSettings]) (any, error) {
			require.Equal(t, "t", w.Settings.Table)
			require.Equal(t, "a", w.Settings.Mode)
			require.Equal(t, 262144, w.Settings.DLQMaxBytes)
			require.Equal(t, "debug", w.Log.GetLevel().String())
			require.Equal(t, "us-east-1", w.AWS.Region)
			creds, err := w.AWS.Credentials.Retrieve(context.Background())
			require.NoError(t, err)
			require.Equal(t, "AKIDEXAMPLE", creds.AccessKeyID, "the execution role's credentials from the environment")
			require.NotNil(t, w.Tracing, "one tracer provider per container")
			w.Metrics.Count("Built", 1)
			return "handler", nil
		})
	require.NoError(t, err)
	require.Equal(t, "handler", h)

	lines := bytes.Split(bytes.TrimSpace(out.Bytes()), []byte("\n"))
	require.Len(t, lines, 2)
	var metric map[string]any
	require.NoError(t, json.Unmarshal(lines[0], &metric))
	require.Equal(t, "fn", metric["Function"])
	require.Equal(t, "dev", metric["Environment"])
	var ready map[string]any
	require.NoError(t, json.Unmarshal(lines[1], &ready))
	require.Equal(t, "fn ready", ready["message"])
	require.Equal(t, "t", ready["table"])
	require.Equal(t, "https://sqs/dlq", ready["dlq_url"])
	require.Equal(t, "0", ready["max_receive_count"])
	require.Equal(t, "[REDACTED]", ready["the_secret_arn"])
}

func TestBuildErrorStopsWiring(t *testing.T) {
	var out bytes.Buffer
	_, err := wire(context.Background(), "fn", lambdaEnv(map[string]string{"TABLE": "t", "DLQ_URL": "u"}), &out,
		func(*Wiring[testSettings]) (any, error) { return nil, errors.New("no table") })
	require.EqualError(t, err, "no table")
	require.NotContains(t, out.String(), "ready")
}

// A constructor's error is reported after build, with build's own.
func TestWiringConstructorErrorsAreReported(t *testing.T) {
	var out bytes.Buffer
	_, err := wire(context.Background(), "fn", lambdaEnv(map[string]string{"TABLE": "t", "DLQ_URL": "u"}), &out,
		func(w *Wiring[testSettings]) (any, error) {
			require.Nil(t, w.IdempotencyStore("", 0))
			require.NotNil(t, w.IdempotencyStore("t", time.Hour), "a later call still builds")
			return "handler", errors.New("and build's own")
		})
	require.ErrorContains(t, err, "build idempotency store: new DynamoDB idempotency store: retention must be positive, got 0s\ntable name is required")
	require.ErrorContains(t, err, "and build's own")
	require.NotContains(t, out.String(), "ready")
}

// The tags repeat pkg/batch's default and SQS's limit (tags are literals):
// this holds them together.
func TestConsumerTagsMatchTheLibrary(t *testing.T) {
	t.Parallel()
	for _, v := range envconfig.Vars(Consumer{}) {
		if v.Name == "DLQ_MAX_MESSAGE_BYTES" {
			require.Equal(t, strconv.Itoa(batch.DefaultDeadLetterMaxBytes), v.Default)
			require.Equal(t, strconv.Itoa(message.MaxMessageBytes), v.Max)
			return
		}
	}
	t.Fatal("Consumer reads no DLQ_MAX_MESSAGE_BYTES")
}

// Outside Lambda's environment (no credentials in it) a function does not
// start: awsenv reads nothing else, and saying so beats a signing error on
// the first call.
func TestWireWithoutLambdaCredentialsSaysSo(t *testing.T) {
	_, err := wire(context.Background(), "fn", testenv.Getenv(map[string]string{"AWS_REGION": "us-east-1", "TABLE": "t", "DLQ_URL": "u"}), &bytes.Buffer{},
		func(*Wiring[testSettings]) (any, error) { t.Fatal("build called"); return nil, nil })
	require.ErrorContains(t, err, "load AWS config: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set")
}

func TestProcessor(t *testing.T) {
	t.Parallel()
	w := &Wiring[testSettings]{}
	h, err := w.Processor(func(context.Context, events.SQSMessage) error { return nil }, batch.WithConcurrency(2))
	require.NoError(t, err)
	require.NotNil(t, h)
	h, err = w.Processor(func(context.Context, events.SQSMessage) error { return nil },
		Consumer{DLQURL: "https://sqs/dlq"}.Options(nil, nil)...)
	require.ErrorContains(t, err, "dead-letter client is required")
	require.Nil(t, h)
}
