package tracing

import (
	"net/http"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Transport traces each request made through base (http.DefaultTransport
// when nil) as a client span on tp (nil: Global) named after the host — an
// X-Ray subsegment with namespace "remote" — with the method, the URL's
// scheme and host only (a path may hold a secret: webhook URLs do; contrib's
// otelhttp transport records the full URL, so it is not used here), status
// and flags, and sends the trace context (X-Amzn-Trace-Id and traceparent).
// Requests whose context has no trace go through untraced. Use it for HTTP
// APIs that are not AWS SDK clients (an SMS provider's REST API).
func Transport(tp trace.TracerProvider, base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	if tp == nil {
		tp = Global()
	}
	p := FromProvider(tp)
	return &transport{base: base, t: p.Tracer("github.com/offload/offload/pkg/tracing"), prop: p.prop}
}

type transport struct {
	base http.RoundTripper
	t    trace.Tracer
	prop propagation.TextMapPropagator
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, span := t.t.Start(req.Context(), req.URL.Hostname(), trace.WithSpanKind(trace.SpanKindClient))
	if !span.SpanContext().IsValid() || span.SpanContext().Equal(trace.SpanContextFromContext(req.Context())) {
		return t.base.RoundTrip(req)
	}
	defer span.End()
	out := req.Clone(ctx)
	t.prop.Inject(ctx, propagation.HeaderCarrier(out.Header))
	// Scheme and host only: webhook URLs carry their secret in the path.
	span.SetAttributes(keyHTTPMethod.String(req.Method), keyURLFull.String(req.URL.Scheme+"://"+req.URL.Host),
		keyServerAddress.String(req.URL.Hostname()))
	resp, err := t.base.RoundTrip(out)
	if err != nil {
		setError(span, err, Fault)
		return resp, err
	}
	span.SetAttributes(keyStatus.Int(resp.StatusCode))
	if resp.ContentLength > 0 {
		span.SetAttributes(keyBodySize.Int64(resp.ContentLength))
	}
	return resp, nil
}
