package logging_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/require"

	"github.com/offload/offload/pkg/logging"
	"github.com/offload/offload/pkg/message"
)

func newLogger(t *testing.T) (*logrus.Logger, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	return logging.New(logging.WithOutput(&buf), logging.WithLevel("debug")), &buf
}

func lines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for l := range strings.Lines(buf.String()) {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &m), "line %q", l)
		out = append(out, m)
	}
	return out
}

func TestJSONFormatAndFieldNames(t *testing.T) {
	t.Parallel()
	l, buf := newLogger(t)
	l.WithField(logging.FieldOutcome, "success").Info("record processed")
	got := lines(t, buf)
	require.Len(t, got, 1)
	require.Equal(t, "record processed", got[0]["message"])
	require.Equal(t, "info", got[0]["level"])
	require.Equal(t, "success", got[0]["outcome"])
	require.Contains(t, got[0], "timestamp")
}

func TestMaskingPhonesAndSecrets(t *testing.T) {
	t.Parallel()
	l, buf := newLogger(t)
	l.WithFields(logrus.Fields{
		"password":      "hunter2",
		"Authorization": "Bearer abc.def",
		"twilio_token":  "tok_123",
		"to":            "447700900089",
		"phone_number":  "+1 415 555 0142",
		"note":          "call +33612345678 now",
		"count":         42,
	}).WithError(errors.New("provider rejected +447700900089")).
		Warn("sending to +44 7700 900089 with api_key=sk_live_1234 and Authorization: Bearer xyz")
	out := buf.String()
	for _, leak := range []string{"hunter2", "abc.def", "tok_123", "7700900089", "7700 900089", "4155550142", "415 555", "612345678", "sk_live_1234", "xyz"} {
		require.NotContains(t, out, leak)
	}
	got := lines(t, buf)[0]
	require.Equal(t, logging.Redacted, got["password"])
	require.Equal(t, logging.Redacted, got["Authorization"])
	require.Equal(t, logging.Redacted, got["twilio_token"])
	require.Equal(t, "44********89", got["to"])
	require.Equal(t, "+1********42", got["phone_number"])
	require.Equal(t, "call +33*******78 now", got["note"])
	require.Equal(t, "provider rejected +44********89", got["error"])
	require.EqualValues(t, 42, got["count"])
	require.Equal(t, "sending to +44********89 with api_key=[REDACTED] and Authorization: Bearer [REDACTED]", got["message"])
}

func TestMaskLeavesOrdinaryTextAlone(t *testing.T) {
	t.Parallel()
	for _, s := range []string{
		"arn:aws:sqs:us-east-1:123456789012:audit",
		"2026-11-26T23:12:43.1234567+00:00",
		"receive count 3, took 12 ms",
		"a+12345678901b",
		"version 1+2",
		"",
	} {
		require.Equal(t, s, logging.Mask(s))
	}
	require.Equal(t, "to +7********12, +1*********90", logging.Mask("to +79161234512, +112345678890"))
	require.Equal(t, `{"token":"[REDACTED]","n":1}`, logging.Mask(`{"token":"abc","n":1}`))
}

func TestFormatterDoesNotModifyEntry(t *testing.T) {
	t.Parallel()
	l, _ := newLogger(t)
	e := l.WithField("secret", "s3cr3t")
	_, err := logging.NewFormatter().Format(e)
	require.NoError(t, err)
	require.Equal(t, "s3cr3t", e.Data["secret"])
}

func TestLevelFromEnvironment(t *testing.T) {
	t.Setenv(logging.EnvLevel, "debug")
	require.Equal(t, logrus.DebugLevel, logging.New().GetLevel())
	t.Setenv(logging.EnvLevel, "WARN")
	require.Equal(t, logrus.WarnLevel, logging.New().GetLevel())
	t.Setenv(logging.EnvLevel, "")
	require.Equal(t, logrus.InfoLevel, logging.New().GetLevel())

	t.Setenv(logging.EnvLevel, "loud")
	var buf bytes.Buffer
	l := logging.New(logging.WithOutput(&buf))
	l.SetOutput(&buf)
	require.Equal(t, logrus.InfoLevel, l.GetLevel())
	_, err := logging.ParseLevel("loud")
	require.ErrorContains(t, err, `LOG_LEVEL "loud"`)
	require.Contains(t, buf.String(), "invalid log level")
}

func TestFromLambdaAndForRecord(t *testing.T) {
	t.Parallel()
	l, buf := newLogger(t)
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-1"})
	key := "key-1"
	rec := events.SQSMessage{
		MessageId:      "m-1",
		Body:           `{"secret body": "+447700900089"}`,
		EventSourceARN: "arn:aws:sqs:us-east-1:123456789012:audit",
		Attributes: map[string]string{
			"ApproximateReceiveCount": "3",
			"AWSTraceHeader":          "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
		},
		MessageAttributes: map[string]events.SQSMessageAttribute{
			message.AttrIdempotencyKey: {StringValue: &key, DataType: "String"},
		},
	}
	e := logging.ForRecord(logging.FromLambda(ctx, l), rec)
	logging.FromContext(logging.WithContext(ctx, e)).Info("done")
	got := lines(t, buf)[0]
	require.Equal(t, "req-1", got["request_id"])
	require.Equal(t, "m-1", got["message_id"])
	require.EqualValues(t, 3, got["receive_count"])
	require.Equal(t, rec.EventSourceARN, got["queue"])
	require.Equal(t, "key-1", got["idempotency_key"])
	require.Equal(t, "1-5759e988-bd862e3fe1be46a994272793", got["trace_id"])
	require.NotContains(t, buf.String(), "secret body")
}

// The record is traced in its producer's trace, so its lines carry that
// trace id rather than the invocation's; a record without a header keeps
// the invocation's.
func TestForRecordTraceID(t *testing.T) {
	t.Parallel()
	l, _ := newLogger(t)
	//lint:ignore SA1029 aws-lambda-go stores the header under this plain string key
	ctx := context.WithValue(context.Background(), "x-amzn-trace-id", "Root=1-69a42a40-0123456789abcdef01234567;Parent=1111222233334444;Sampled=1")
	base := logging.FromLambda(ctx, l)
	require.Equal(t, "1-69a42a40-0123456789abcdef01234567", base.Data["trace_id"])
	withHeader := events.SQSMessage{MessageId: "m-1", Attributes: map[string]string{"AWSTraceHeader": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"}}
	require.Equal(t, "1-5759e988-bd862e3fe1be46a994272793", logging.ForRecord(base, withHeader).Data["trace_id"])
	require.Equal(t, "1-69a42a40-0123456789abcdef01234567", logging.ForRecord(base, events.SQSMessage{MessageId: "m-2"}).Data["trace_id"])
}

func TestFromContextDefault(t *testing.T) {
	t.Parallel()
	require.NotNil(t, logging.FromContext(context.Background()))
}

func ExampleMask() {
	os.Stdout.WriteString(logging.Mask("sent to +447700900089, token=abc123") + "\n")
	// Output: sent to +44********89, token=[REDACTED]
}

func BenchmarkFormat(b *testing.B) {
	l := logging.New(logging.WithOutput(io.Discard), logging.WithLevel("info"))
	e := l.WithFields(logrus.Fields{logging.FieldMessageID: "0f6c5c1e-6a8e-4bd5-9f0e-3f8c6b1f5e21", logging.FieldReceiveCount: 1, logging.FieldOutcome: "success"})
	b.ReportAllocs()
	for b.Loop() {
		e.Info("record processed")
	}
}

func TestFormatterEncodesEveryFieldType(t *testing.T) {
	t.Parallel()
	l, buf := newLogger(t)
	when := time.Date(2026, 11, 26, 23, 12, 43, 123456700, time.UTC)
	l.WithFields(logrus.Fields{
		"str":       "quote \" backslash \\ newline \n tab \t ctrl \x01 bad \xff html <&> sep \u2028",
		"int":       -7,
		"int64":     int64(1) << 40,
		"uint":      uint(3),
		"float":     1.5,
		"nan":       math.NaN(),
		"bool":      true,
		"time":      when,
		"dur":       1500 * time.Millisecond,
		"nil":       nil,
		"map":       map[string]int{"a": 1},
		"message":   "clash",
		"api_token": 12345,
	}).Info("multi\nline")
	raw := buf.Bytes()
	require.True(t, json.Valid(bytes.TrimSpace(raw)), "%s", raw)
	require.Equal(t, 1, bytes.Count(raw, []byte("\n")), "one line per entry")
	got := lines(t, buf)[0]
	require.Equal(t, "multi\nline", got["message"])
	require.Equal(t, "quote \" backslash \\ newline \n tab \t ctrl \x01 bad \ufffd html <&> sep \u2028", got["str"])
	require.EqualValues(t, -7, got["int"])
	require.EqualValues(t, int64(1)<<40, got["int64"])
	require.EqualValues(t, 3, got["uint"])
	require.EqualValues(t, 1.5, got["float"])
	require.Equal(t, "NaN", got["nan"])
	require.Equal(t, true, got["bool"])
	require.Equal(t, "2026-11-26T23:12:43.1234567Z", got["time"])
	require.EqualValues(t, 1500*time.Millisecond, got["dur"])
	require.Nil(t, got["nil"])
	require.Contains(t, got, "nil")
	require.Equal(t, map[string]any{"a": 1.0}, got["map"])
	require.Equal(t, "clash", got["fields.message"])
	require.Equal(t, logging.Redacted, got["api_token"], "secret keys are redacted whatever the type")
	require.Contains(t, string(raw), `"timestamp":"`)
}

func TestFormatterReportsCaller(t *testing.T) {
	t.Parallel()
	l, buf := newLogger(t)
	l.SetReportCaller(true)
	l.Info("where")
	got := lines(t, buf)[0]
	require.Contains(t, got["func"], "TestFormatterReportsCaller")
	require.Contains(t, got["file"], "logging_test.go:")
}

func TestMaskingFormatterWrapsAnyFormatter(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	l := logrus.New()
	l.SetOutput(&buf)
	l.SetFormatter(&logging.MaskingFormatter{Inner: &logrus.TextFormatter{DisableColors: true, DisableTimestamp: true}})
	l.WithField("password", "hunter2").Info("to +447700900089")
	require.Equal(t, "level=info msg=\"to +44********89\" password=\"[REDACTED]\"\n", buf.String())
}

func TestPhoneFieldsAlreadyMaskedKeepTheirShape(t *testing.T) {
	t.Parallel()
	l, buf := newLogger(t)
	l.WithFields(logrus.Fields{
		"to":          "+44********56", // sms.MaskNumber's output: nothing more to hide
		"destination": "+44*12345678",  // a star is not a licence: too many digits show
	}).Info("x")
	got := lines(t, buf)[0]
	require.Equal(t, "+44********56", got["to"])
	require.NotContains(t, buf.String(), "12345678")
}
