package tracing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// Attribute keys offload's spans carry besides OpenTelemetry's semantic
// conventions; the X-Ray exporter reads them. Attribute keys without a dot
// (Span.Annotate's) become X-Ray annotations.
const (
	// AttrOrigin is the X-Ray origin of a service entry (WithOrigin).
	AttrOrigin = attribute.Key("aws.xray.origin")
	// AttrMetadataPrefix prefixes Span.Metadata's keys; the value is JSON.
	AttrMetadataPrefix = "aws.xray.metadata."
	// AttrFault, AttrError and AttrThrottle are X-Ray's flags (SetError).
	AttrFault    = attribute.Key("aws.xray.fault")
	AttrError    = attribute.Key("aws.xray.error")
	AttrThrottle = attribute.Key("aws.xray.throttle")
	// AttrOperation, AttrQueueURL, AttrTableName, AttrTopicARN and
	// AttrRetries describe an AWS call (SetAWS, InstrumentAWS).
	AttrOperation = attribute.Key("aws.operation")
	AttrQueueURL  = attribute.Key("aws.sqs.queue.url")
	AttrTableName = attribute.Key("aws.dynamodb.table_names")
	AttrTopicARN  = attribute.Key("aws.sns.topic.arn")
	AttrRetries   = attribute.Key("aws.retries")
	// AttrXForwardedFor says the client address came from X-Forwarded-For.
	AttrXForwardedFor = attribute.Key("aws.xray.x_forwarded_for")
)

// Semantic-convention keys (OpenTelemetry semconv v1.43) the package writes
// and the exporter reads.
const (
	keyRPCSystem      = attribute.Key("rpc.system.name")
	keyRPCMethod      = attribute.Key("rpc.method")
	keyRegion         = attribute.Key("aws.region")
	keyRequestID      = attribute.Key("aws.request_id")
	keyHTTPMethod     = attribute.Key("http.request.method")
	keyURLFull        = attribute.Key("url.full")
	keyURLPath        = attribute.Key("url.path")
	keyURLScheme      = attribute.Key("url.scheme")
	keyServerAddress  = attribute.Key("server.address")
	keyServerPort     = attribute.Key("server.port")
	keyClientAddress  = attribute.Key("client.address")
	keyUserAgent      = attribute.Key("user_agent.original")
	keyStatus         = attribute.Key("http.response.status_code")
	keyBodySize       = attribute.Key("http.response.body.size")
	keyExceptionMsg   = attribute.Key("exception.message")
	keyExceptionType  = attribute.Key("exception.type")
	keyMessagingSys   = attribute.Key("messaging.system")
	keyMessagingOp    = attribute.Key("messaging.operation.type")
	keyMessagingDest  = attribute.Key("messaging.destination.name")
	keyMessagingMsgID = attribute.Key("messaging.message.id")
	awsAPI            = "aws-api"
)

// NewTracer returns offload's Tracer over tp: a *Provider, or any
// TracerProvider (given the Provider's behaviour with FromProvider).
func NewTracer(tp trace.TracerProvider) Tracer {
	p := FromProvider(tp)
	return &spanTracer{t: p.Tracer("github.com/offload/offload/pkg/tracing")}
}

type spanTracer struct{ t trace.Tracer }

func (t *spanTracer) Start(ctx context.Context, name string, opts ...StartOption) (context.Context, Span) {
	if ctx == nil {
		ctx = context.Background()
	}
	c := NewStartConfig(opts)
	if c.RemoteParent != "" {
		if sc, ok := parseHeader(c.RemoteParent); ok {
			ctx = trace.ContextWithRemoteSpanContext(ctx, sc)
		}
	}
	so := make([]trace.SpanStartOption, 0, 3)
	switch c.Kind {
	case KindServer:
		so = append(so, trace.WithSpanKind(trace.SpanKindServer))
	case KindClient:
		so = append(so, trace.WithSpanKind(trace.SpanKindClient))
	}
	var attrs []attribute.KeyValue
	if c.Origin != "" {
		attrs = append(attrs, AttrOrigin.String(c.Origin))
	}
	if r := c.Sampling; r != (SamplingRequest{}) {
		attrs = append(attrs, keyServerAddress.String(r.Host), keyHTTPMethod.String(r.Method), keyURLPath.String(r.Path))
	}
	if len(attrs) > 0 {
		so = append(so, trace.WithAttributes(attrs...))
	}
	if len(c.Links) > 0 {
		links := make([]trace.Link, 0, len(c.Links))
		for _, l := range c.Links {
			if sc, ok := toOTel(l); ok {
				links = append(links, trace.Link{SpanContext: sc})
			}
		}
		so = append(so, trace.WithLinks(links...))
	}
	ctx, s := t.t.Start(ctx, name, so...)
	if !s.SpanContext().IsValid() {
		return ctx, noopSpan{}
	}
	return ctx, wrapSpan(s)
}

// otelSpan is a Span over an OpenTelemetry span.
type otelSpan struct {
	span   trace.Span
	header string
}

func wrapSpan(s trace.Span) *otelSpan {
	return &otelSpan{span: s, header: formatHeader(s.SpanContext())}
}

// OTel returns the OpenTelemetry span behind s, or nil.
func OTel(s Span) trace.Span {
	if o, ok := s.(*otelSpan); ok {
		return o.span
	}
	return nil
}

func (s *otelSpan) Context() SpanContext { return fromOTel(s.span.SpanContext()) }
func (s *otelSpan) TraceHeader() string  { return s.header }
func (s *otelSpan) End()                 { s.span.End() }

func (s *otelSpan) Annotate(key string, value any) {
	if !s.span.IsRecording() {
		return
	}
	s.span.SetAttributes(kv(sanitizeKey(key), value))
}

func kv(key string, value any) attribute.KeyValue {
	k := attribute.Key(key)
	switch v := value.(type) {
	case string:
		return k.String(v)
	case bool:
		return k.Bool(v)
	case int:
		return k.Int(v)
	case int8:
		return k.Int64(int64(v))
	case int16:
		return k.Int64(int64(v))
	case int32:
		return k.Int64(int64(v))
	case int64:
		return k.Int64(v)
	case uint8:
		return k.Int64(int64(v))
	case uint16:
		return k.Int64(int64(v))
	case uint32:
		return k.Int64(int64(v))
	case uint:
		if uint64(v) <= 1<<63-1 {
			return k.Int64(int64(v))
		}
	case uint64:
		if v <= 1<<63-1 {
			return k.Int64(int64(v))
		}
	case float32:
		return k.Float64(float64(v))
	case float64:
		return k.Float64(v)
	}
	return k.String(fmt.Sprint(value))
}

func (s *otelSpan) Metadata(key string, value any) {
	if !s.span.IsRecording() {
		return
	}
	b, err := json.Marshal(value)
	if err != nil {
		b, _ = json.Marshal("unencodable " + err.Error())
	}
	s.span.SetAttributes(attribute.String(AttrMetadataPrefix+key, string(b)))
}

func (s *otelSpan) SetAWS(call AWSCall) {
	if !s.span.IsRecording() {
		return
	}
	s.span.SetAttributes(awsAttributes(call)...)
}

func awsAttributes(call AWSCall) []attribute.KeyValue {
	a := []attribute.KeyValue{keyRPCSystem.String(awsAPI), AttrRetries.Int(call.Retries)}
	add := func(k attribute.Key, v string) {
		if v != "" {
			a = append(a, k.String(v))
		}
	}
	add(AttrOperation, call.Operation)
	add(keyRegion, call.Region)
	add(keyRequestID, call.RequestID)
	add(AttrQueueURL, call.QueueURL)
	add(AttrTopicARN, call.TopicARN)
	if call.TableName != "" {
		a = append(a, AttrTableName.StringSlice([]string{call.TableName}))
	}
	return a
}

func (s *otelSpan) SetHTTP(h HTTP) {
	if !s.span.IsRecording() {
		return
	}
	var a []attribute.KeyValue
	add := func(k attribute.Key, v string) {
		if v != "" {
			a = append(a, k.String(v))
		}
	}
	add(keyHTTPMethod, h.Method)
	add(keyURLFull, h.URL)
	add(keyClientAddress, h.ClientIP)
	add(keyUserAgent, h.UserAgent)
	if h.XForwardedFor {
		a = append(a, AttrXForwardedFor.Bool(true))
	}
	if h.Status != 0 {
		a = append(a, keyStatus.Int(h.Status))
	}
	if h.ContentLength > 0 {
		a = append(a, keyBodySize.Int64(h.ContentLength))
	}
	s.span.SetAttributes(a...)
}

// maxExceptions bounds the exceptions one span records.
const maxExceptions = 10

func (s *otelSpan) SetError(err error, kind ErrorKind) {
	if !s.span.IsRecording() {
		return
	}
	setError(s.span, err, kind)
}

// RecordError records err on an OpenTelemetry span the way Span.SetError
// does: an "exception" event, an error status and X-Ray's flag for kind
// (err may be nil: the flag only).
func RecordError(span trace.Span, err error, kind ErrorKind) {
	if span.IsRecording() {
		setError(span, err, kind)
	}
}

// setError records err on span as an "exception" event and X-Ray's flag
// for kind.
func setError(span trace.Span, err error, kind ErrorKind) {
	switch kind {
	case Throttle:
		span.SetAttributes(AttrThrottle.Bool(true), AttrError.Bool(true))
	case ClientError:
		span.SetAttributes(AttrError.Bool(true))
	default:
		span.SetAttributes(AttrFault.Bool(true))
	}
	if err != nil {
		span.AddEvent("exception", trace.WithAttributes(keyExceptionMsg.String(err.Error()), keyExceptionType.String(errorType(err))))
		span.SetStatus(codes.Error, err.Error())
	}
}

// errorType names the innermost error of err's Unwrap chain, which says more
// than the wrappers around it.
func errorType(err error) string {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return fmt.Sprintf("%T", err)
		}
		err = next
	}
}

// sanitizeKey makes an annotation key X-Ray accepts: letters, digits and
// underscores (others become underscores), at most 500 bytes.
func sanitizeKey(k string) string {
	ok := len(k) > 0 && len(k) <= 500
	for i := 0; ok && i < len(k); i++ {
		ok = isKeyByte(k[i])
	}
	if ok {
		return k
	}
	if k == "" {
		return "_"
	}
	if len(k) > 500 {
		k = k[:500]
	}
	out := []byte(k)
	for i, c := range out {
		if !isKeyByte(c) {
			out[i] = '_'
		}
	}
	return string(out)
}

func isKeyByte(c byte) bool {
	return c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}
