package logging

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/sirupsen/logrus"

	"github.com/offload/offload/pkg/message"
	"github.com/offload/offload/pkg/tracing"
)

// Standard field names. Use these, not ad-hoc spellings, so that one query
// finds a message across producer, consumer and DLQ tooling.
const (
	FieldRequestID    = "request_id"
	FieldFunction     = "function"
	FieldMessageID    = "message_id"
	FieldReceiveCount = "receive_count"
	FieldTraceID      = "trace_id"
	FieldOutcome      = "outcome"
	FieldDurationMS   = "duration_ms"
	FieldQueue        = "queue"
	FieldErrorClass   = "error_class"
	// FieldError is the key logrus's WithError uses (logrus.ErrorKey).
	FieldError = "error"
	// FieldIdempotencyKey is the producer-supplied idempotency key.
	FieldIdempotencyKey = "idempotency_key"
)

// Domain ids have names of their own, never request_id (Lambda's request
// id) or message_id (the SQS message id): docs/development.md, "Log fields".
const (
	// FieldAuditID is an audit record's messageId, its key in the table.
	FieldAuditID = "audit_id"
	// FieldSMSRequestID is an SMS request's requestId, its idempotency key.
	FieldSMSRequestID = "sms_request_id"
	// FieldClientKeyID is the id of the API key a service's caller used
	// (never the key; a name with "api_key" in it would be redacted).
	FieldClientKeyID = "client_key_id"
)

// EnvLevel is the environment variable New reads the level from.
const EnvLevel = "LOG_LEVEL"

// Option configures New.
type Option func(*config)

type config struct {
	out   io.Writer
	level string
	env   bool
}

// WithOutput sets where entries are written (default os.Stdout, which Lambda
// sends to CloudWatch Logs).
func WithOutput(w io.Writer) Option { return func(c *config) { c.out = w } }

// WithLevel sets the level by name ("debug", "info", …) instead of reading
// LOG_LEVEL.
func WithLevel(level string) Option {
	return func(c *config) { c.level, c.env = level, false }
}

// ParseLevel parses a level name as LOG_LEVEL accepts it: any logrus level,
// case-insensitive; "" means info.
func ParseLevel(s string) (logrus.Level, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return logrus.InfoLevel, nil
	}
	l, err := logrus.ParseLevel(s)
	if err != nil {
		return logrus.InfoLevel, fmt.Errorf("%s %q: want one of trace, debug, info, warn, error, fatal, panic", EnvLevel, s)
	}
	return l, nil
}

// New returns a JSON logger writing to stdout at the level named by LOG_LEVEL
// (info when unset), masking phone numbers and secrets in every entry. An
// invalid LOG_LEVEL does not fail: the logger uses info and logs a warning
// saying so (validate it at init with ParseLevel to fail fast instead).
func New(opts ...Option) *logrus.Logger {
	c := config{out: os.Stdout, env: true}
	for _, o := range opts {
		o(&c)
	}
	if c.env {
		c.level = os.Getenv(EnvLevel)
	}
	l := logrus.New()
	l.SetOutput(c.out)
	l.SetFormatter(NewFormatter())
	level, err := ParseLevel(c.level)
	l.SetLevel(level)
	if err != nil {
		l.WithError(err).Warn("invalid log level, using info")
	}
	return l
}

// NewFormatter returns the formatter New installs: one JSON object per line
// with "timestamp" (RFC 3339, nanoseconds), "level", "message" and the fields,
// masked (see Formatter and Mask). Use it to give an existing logrus logger
// offload's format.
func NewFormatter() logrus.Formatter { return &Formatter{} }

// FromLambda returns base with the invocation's fields: request_id and
// function from lambdacontext, trace_id from the context's trace. Fields that
// are not known (outside Lambda) are left out.
func FromLambda(ctx context.Context, base logrus.FieldLogger) *logrus.Entry {
	fields := make(logrus.Fields, 3)
	if lc, ok := lambdacontext.FromContext(ctx); ok && lc.AwsRequestID != "" {
		fields[FieldRequestID] = lc.AwsRequestID
	}
	if lambdacontext.FunctionName != "" {
		fields[FieldFunction] = lambdacontext.FunctionName
	}
	if id := tracing.TraceID(ctx); id != "" {
		fields[FieldTraceID] = id
	}
	return base.WithFields(fields)
}

// ForRecord returns base with the SQS record's fields: message_id,
// receive_count, queue (the source ARN), idempotency_key when the producer set
// one, and trace_id: the trace of the record's AWSTraceHeader when it has one
// (pkg/batch traces the record in its producer's trace), else base's.
// Nothing of the body is logged.
func ForRecord(base *logrus.Entry, msg events.SQSMessage) *logrus.Entry {
	data := make(logrus.Fields, len(base.Data)+5)
	maps.Copy(data, base.Data)
	data[FieldMessageID] = msg.MessageId
	if rc, err := strconv.Atoi(msg.Attributes["ApproximateReceiveCount"]); err == nil {
		data[FieldReceiveCount] = rc
	}
	if msg.EventSourceARN != "" {
		data[FieldQueue] = msg.EventSourceARN
	}
	if a, ok := msg.MessageAttributes[message.AttrIdempotencyKey]; ok && a.StringValue != nil {
		data[FieldIdempotencyKey] = *a.StringValue
	}
	if id := tracing.RootOf(msg.Attributes[message.SystemAttrTraceHeader]); id != "" {
		data[FieldTraceID] = id
	}
	// One map instead of base.WithFields' copy of a copy: this runs per record.
	return &logrus.Entry{Logger: base.Logger, Data: data, Time: base.Time, Context: base.Context}
}

type ctxKey struct{}

// WithContext returns ctx carrying the logger entry, for FromContext.
func WithContext(ctx context.Context, l *logrus.Entry) context.Context {
	return context.WithValue(ctx, ctxKey{}, l)
}

// FromContext returns the entry WithContext stored in ctx, or an entry of a
// default logger (New with LOG_LEVEL, stdout) when there is none.
func FromContext(ctx context.Context) *logrus.Entry {
	if l, ok := ctx.Value(ctxKey{}).(*logrus.Entry); ok && l != nil {
		return l
	}
	return defaultEntry()
}

var defaultEntry = sync.OnceValue(func() *logrus.Entry { return logrus.NewEntry(New()) })
