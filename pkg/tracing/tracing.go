package tracing

import (
	"context"
	"strings"
	"sync/atomic"

	"go.opentelemetry.io/otel/trace"
)

// Tracer starts spans: offload's small span API over an OpenTelemetry
// TracerProvider (NewTracer). Implementations are safe for concurrent use.
type Tracer interface {
	// Start begins a span named name and returns ctx carrying it.
	//
	// Where the span goes depends on the options and on ctx:
	//   - RemoteParent(h) with a valid header: a new service entry (X-Ray
	//     segment) in h's trace, child of h's Parent, sampled as h says;
	//   - otherwise a child of the span in ctx, of a span another tracer put
	//     in ctx (RegisterParentSource), or of the Lambda invocation
	//     (aws-lambda-go's "x-amzn-trace-id" context value);
	//   - otherwise, for KindServer, the root of a new trace, sampled by the
	//     provider's sampler;
	//   - otherwise nothing is traced: the missing context is reported once
	//     and Start returns ctx unchanged with a span that records nothing.
	Start(ctx context.Context, name string, opts ...StartOption) (context.Context, Span)
}

// Span is one timed operation. Methods are safe for concurrent use and do
// nothing after End. A span that is not sampled accepts every call and emits
// nothing.
type Span interface {
	// Annotate records an indexed key/value (X-Ray annotation, OpenTelemetry
	// attribute): string, bool, integer or float values. Keys should be
	// letters, digits and underscores.
	Annotate(key string, value any)
	// Metadata records a non-indexed value of any JSON-encodable type.
	Metadata(key string, value any)
	// SetAWS records the AWS call this span stands for.
	SetAWS(call AWSCall)
	// SetHTTP records the HTTP exchange this span stands for; a response
	// status ≥ 400 also sets the matching error flag (ErrorKind).
	SetHTTP(h HTTP)
	// SetError marks the span failed with err as its cause; kind says whose
	// fault it was. A nil err with a kind other than Fault only sets the flag.
	SetError(err error, kind ErrorKind)
	// End finishes the span and sends it (when sampled and it is the last
	// open span of its document). Calls after the first do nothing.
	End()
	// Context returns the span's identity.
	Context() SpanContext
	// TraceHeader returns the X-Ray trace header naming this span as the
	// parent ("Root=…;Parent=…;Sampled=…"), for downstream calls and
	// messages; "" for a span that records nothing.
	TraceHeader() string
}

// SpanContext identifies a span within its trace.
type SpanContext struct {
	// TraceID is the X-Ray trace id, "1-<8 hex epoch>-<24 hex>".
	TraceID string
	// SpanID is the segment or subsegment id, 16 hex digits.
	SpanID string
	// Sampled reports whether the trace is recorded.
	Sampled bool
}

// Valid reports whether sc names a span.
func (sc SpanContext) Valid() bool { return sc.TraceID != "" && sc.SpanID != "" }

// Header formats sc as an X-Ray trace header naming the span as the parent.
func (sc SpanContext) Header() string {
	if sc.TraceID == "" {
		return ""
	}
	sampled := "Sampled=0"
	if sc.Sampled {
		sampled = "Sampled=1"
	}
	if sc.SpanID == "" {
		return "Root=" + sc.TraceID + ";" + sampled
	}
	return "Root=" + sc.TraceID + ";Parent=" + sc.SpanID + ";" + sampled
}

// Kind says what a span stands for.
type Kind uint8

const (
	// KindInternal is work inside the service (the default).
	KindInternal Kind = iota
	// KindServer is the service's handling of a request or message: it may
	// start a new trace when ctx has none.
	KindServer
	// KindClient is a call to another service (an AWS API, an HTTP API).
	KindClient
)

// ErrorKind classifies a failure the way X-Ray's flags do.
type ErrorKind uint8

const (
	// Fault is a server-side failure (5xx, a panic, an unexpected error).
	Fault ErrorKind = iota
	// ClientError is the caller's failure (4xx, invalid input).
	ClientError
	// Throttle is a refusal for rate (429, throttling exceptions); it is also
	// a client error.
	Throttle
)

// StartOption configures one Start call.
type StartOption func(*StartConfig)

// StartConfig is what the StartOptions of a Start call say. Backends read it
// with NewStartConfig.
type StartConfig struct {
	// Kind is the span's kind (default KindInternal).
	Kind Kind
	// RemoteParent is an incoming X-Ray trace header to continue.
	RemoteParent string
	// Origin is the X-Ray origin of a service entry, e.g.
	// "AWS::Lambda::Function" (OpenTelemetry: the cloud.platform resource).
	Origin string
	// Sampling describes the request for the sampling rules when the span
	// starts a new trace.
	Sampling SamplingRequest
	// Links are spans this one is causally related to without being their
	// child (the invocation of a batch and its records' producers).
	Links []SpanContext
}

// SamplingRequest is what sampling rules match a new trace on.
type SamplingRequest struct {
	Host, Method, Path string
}

// NewStartConfig applies opts.
func NewStartConfig(opts []StartOption) StartConfig {
	var c StartConfig
	for _, o := range opts {
		o(&c)
	}
	return c
}

// WithKind sets the span's kind.
func WithKind(k Kind) StartOption {
	if int(k) < len(kindOptions) {
		return kindOptions[k]
	}
	return func(c *StartConfig) { c.Kind = k }
}

// kindOptions are WithKind's options, built once: Start is on hot paths.
var kindOptions = [...]StartOption{
	KindInternal: func(c *StartConfig) { c.Kind = KindInternal },
	KindServer:   func(c *StartConfig) { c.Kind = KindServer },
	KindClient:   func(c *StartConfig) { c.Kind = KindClient },
}

// RemoteParent continues the trace of an incoming X-Ray header (an HTTP
// X-Amzn-Trace-Id, an SQS record's AWSTraceHeader): the span is a service
// entry in that trace. An empty or rootless header is ignored.
func RemoteParent(header string) StartOption {
	return func(c *StartConfig) { c.RemoteParent = header }
}

// WithOrigin sets the X-Ray origin of a service entry.
func WithOrigin(origin string) StartOption { return func(c *StartConfig) { c.Origin = origin } }

// WithSamplingRequest gives the sampling rules the request's host, method
// and path.
func WithSamplingRequest(r SamplingRequest) StartOption {
	return func(c *StartConfig) { c.Sampling = r }
}

// WithLinks links the span to others (OpenTelemetry span links; in X-Ray
// documents, metadata "otel" → "links"). Invalid contexts are ignored.
func WithLinks(links ...SpanContext) StartOption {
	return func(c *StartConfig) { c.Links = append(c.Links, links...) }
}

// AWSCall describes an AWS API call (X-Ray "aws" fields; OpenTelemetry rpc.*
// and aws.* attributes). Empty fields are left out.
type AWSCall struct {
	Operation string
	Region    string
	RequestID string
	Retries   int
	// Resources the call names.
	QueueURL  string
	TableName string
	TopicARN  string
}

// HTTP describes an HTTP exchange (X-Ray "http" fields). Zero fields are left
// out.
type HTTP struct {
	Method        string
	URL           string
	ClientIP      string
	UserAgent     string
	XForwardedFor bool
	Status        int
	ContentLength int64
}

// noopSpan records nothing.
type noopSpan struct{}

func (noopSpan) Annotate(string, any)      {}
func (noopSpan) Metadata(string, any)      {}
func (noopSpan) SetAWS(AWSCall)            {}
func (noopSpan) SetHTTP(HTTP)              {}
func (noopSpan) SetError(error, ErrorKind) {}
func (noopSpan) End()                      {}
func (noopSpan) Context() SpanContext      { return SpanContext{} }
func (noopSpan) TraceHeader() string       { return "" }

// NoopSpan returns a span that records nothing (the batch processor's
// invocation span outside a traced invocation).
func NoopSpan() Span { return noopSpan{} }

// ContextWithSpan returns ctx carrying s as the current span (its
// OpenTelemetry span). Callers use it to move a span onto another context
// (e.g. one with a longer deadline).
func ContextWithSpan(ctx context.Context, s Span) context.Context {
	if os, ok := s.(*otelSpan); ok {
		return trace.ContextWithSpan(ctx, os.span)
	}
	return ctx
}

// SpanFromContext returns the current span of ctx (any OpenTelemetry span,
// offload's or a service's own), or a span that records nothing.
func SpanFromContext(ctx context.Context) Span {
	if ctx == nil {
		return noopSpan{}
	}
	s := trace.SpanFromContext(ctx)
	if !s.SpanContext().IsValid() {
		return noopSpan{}
	}
	return wrapSpan(s)
}

// LambdaContextKey is the context key under which aws-lambda-go stores the
// invocation's trace header (Lambda-Runtime-Trace-Id). It is a plain string
// key by aws-lambda-go's choice.
const LambdaContextKey = "x-amzn-trace-id"

// parentSource is the hook RegisterParentSource sets.
var parentSource atomic.Pointer[func(context.Context) (SpanContext, bool)]

// RegisterParentSource lets spans that another tracer put in a context (the
// X-Ray SDK's, through pkg/tracing/xraysdk) be seen by TraceHeader, TraceID
// and as parents of new spans. src reports the innermost such span of ctx.
// nil removes the hook.
func RegisterParentSource(src func(ctx context.Context) (SpanContext, bool)) {
	if src == nil {
		parentSource.Store(nil)
		return
	}
	parentSource.Store(&src)
}

// ParentFromContext returns the span new spans in ctx would be children of,
// and whether there is one: the OpenTelemetry span in ctx (a service's own
// or offload's), else one a registered parent source finds (the X-Ray SDK's),
// else the Lambda invocation's (its facade segment, from the context
// aws-lambda-go hands the handler — never from _X_AMZN_TRACE_ID, which it
// does not set when one process serves concurrent invokes).
func ParentFromContext(ctx context.Context) (SpanContext, bool) {
	if sc, ok := parentOTel(ctx); ok {
		return fromOTel(sc), true
	}
	return SpanContext{}, false
}

// parentOTel is ParentFromContext as an OpenTelemetry span context; a parent
// found outside OpenTelemetry is marked remote.
func parentOTel(ctx context.Context) (trace.SpanContext, bool) {
	if ctx == nil {
		return trace.SpanContext{}, false
	}
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		return sc, true
	}
	if src := parentSource.Load(); src != nil {
		if sc, ok := (*src)(ctx); ok && sc.TraceID != "" {
			if o, ok := toOTel(sc); ok {
				return o, true
			}
		}
	}
	if h, ok := ctx.Value(LambdaContextKey).(string); ok && h != "" {
		if sc, ok := parseHeader(h); ok {
			return sc, true
		}
	}
	return trace.SpanContext{}, false
}

// TraceHeader returns the X-Ray trace header to hand to a downstream call or
// message (SQS's AWSTraceHeader), e.g.
// "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1".
//
// It names the current span of ctx as the parent (ParentFromContext); for
// the Lambda invocation it is the runtime's own header. Otherwise "".
func TraceHeader(ctx context.Context) string {
	if ctx == nil {
		return ""
	}
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		return formatHeader(sc)
	}
	if src := parentSource.Load(); src != nil {
		if sc, ok := (*src)(ctx); ok && sc.TraceID != "" {
			return sc.Header()
		}
	}
	if h, ok := ctx.Value(LambdaContextKey).(string); ok {
		return h
	}
	return ""
}

// TraceID returns the trace id (the Root value) of the trace in ctx, as
// TraceHeader finds it, or "" when there is none.
func TraceID(ctx context.Context) string {
	if sc, ok := ParentFromContext(ctx); ok {
		return sc.TraceID
	}
	return ""
}

// RootOf returns the Root value of an X-Ray trace header string such as an
// SQS record's AWSTraceHeader attribute, or "" when it has none.
func RootOf(header string) string {
	for part := range strings.SplitSeq(header, ";") {
		part = strings.TrimSpace(part)
		if v, ok := strings.CutPrefix(part, "Root="); ok {
			return v
		}
	}
	return ""
}
