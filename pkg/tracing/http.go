package tracing

import (
	"fmt"
	"net"
	"net/http"
	"strings"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Middleware traces each request next serves with contrib's otelhttp on tp
// (nil: Global), as a server span named name — a service entry (X-Ray
// segment): an incoming X-Amzn-Trace-Id (or W3C traceparent) is continued,
// its sampling decision honoured; without one a new trace starts, sampled by
// the provider's rules (matched on host, method and path). The span records
// the method, URL (without query), client IP, user agent, status and
// response length, and the flags of a 4xx/5xx status or a panic. The
// response carries X-Amzn-Trace-Id with the trace's Root (and the decision,
// when the request asked with Sampled=?). The handler's context carries the
// span, so pkg/producer and instrumented clients continue the trace.
func Middleware(tp trace.TracerProvider, name string, next http.Handler) http.Handler {
	if tp == nil {
		tp = Global()
	}
	p := FromProvider(tp)
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		span := trace.SpanFromContext(r.Context())
		sc := span.SpanContext()
		if sc.IsValid() {
			resp := "Root=" + xrayTraceID(sc.TraceID())
			if in := r.Header.Get(TraceHeaderName); in != "" && strings.Contains(in, "Sampled=?") {
				resp += ";Sampled=" + map[bool]string{true: "1", false: "0"}[sc.IsSampled()]
			}
			w.Header().Set(TraceHeaderName, resp)
		}
		if span.IsRecording() {
			ip, xff := clientIP(r)
			span.SetAttributes(keyURLFull.String(requestURL(r)), keyClientAddress.String(ip))
			if xff {
				span.SetAttributes(AttrXForwardedFor.Bool(true))
			}
		}
		defer func() {
			if v := recover(); v != nil {
				setError(span, fmt.Errorf("handler panicked: %v", v), Fault)
				span.SetAttributes(keyStatus.Int(http.StatusInternalServerError))
				panic(v)
			}
		}()
		next.ServeHTTP(w, r)
	})
	return otelhttp.NewHandler(inner, name,
		otelhttp.WithTracerProvider(p), otelhttp.WithPropagators(p.prop),
		otelhttp.WithSpanNameFormatter(func(op string, _ *http.Request) string { return op }))
}

// requestURL is the request's absolute URL without query or user info, which
// may hold secrets.
func requestURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p == "http" || p == "https" {
		scheme = p
	}
	return scheme + "://" + r.Host + r.URL.EscapedPath()
}

func clientIP(r *http.Request) (string, bool) {
	if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
		first, _, _ := strings.Cut(xff, ",")
		return strings.TrimSpace(first), true
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr, false
	}
	return host, false
}

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
