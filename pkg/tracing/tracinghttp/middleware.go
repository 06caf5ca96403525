// Package tracinghttp is pkg/tracing's HTTP server middleware, on contrib's
// otelhttp. It is a package of its own so that Lambda functions, which
// serve no HTTP, do not link otelhttp (their zips have a 4 MiB budget).
package tracinghttp

import (
	"fmt"
	"net"
	"net/http"
	"strings"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/offload/offload/pkg/tracing"
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
		tp = tracing.Global()
	}
	p := tracing.FromProvider(tp)
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		span := trace.SpanFromContext(r.Context())
		sc := span.SpanContext()
		if sc.IsValid() {
			resp := "Root=" + tracing.SpanFromContext(r.Context()).Context().TraceID
			if in := r.Header.Get(tracing.TraceHeaderName); in != "" && strings.Contains(in, "Sampled=?") {
				resp += ";Sampled=" + map[bool]string{true: "1", false: "0"}[sc.IsSampled()]
			}
			w.Header().Set(tracing.TraceHeaderName, resp)
		}
		if span.IsRecording() {
			ip, xff := clientIP(r)
			span.SetAttributes(attribute.String("url.full", requestURL(r)), attribute.String("client.address", ip))
			if xff {
				span.SetAttributes(tracing.AttrXForwardedFor.Bool(true))
			}
		}
		defer func() {
			if v := recover(); v != nil {
				tracing.RecordError(span, fmt.Errorf("handler panicked: %v", v), tracing.Fault)
				span.SetAttributes(attribute.Int("http.response.status_code", http.StatusInternalServerError))
				panic(v)
			}
		}()
		next.ServeHTTP(w, r)
	})
	return otelhttp.NewHandler(inner, name,
		otelhttp.WithTracerProvider(p), otelhttp.WithPropagators(p.Propagator()),
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
