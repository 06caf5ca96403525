package tracing

import (
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/aws/aws-xray-sdk-go/v2/header"
)

// Middleware traces each request next serves as a service entry (X-Ray
// segment) named name: an incoming X-Amzn-Trace-Id is continued, its
// sampling decision honoured; without one a new trace starts, sampled by the
// tracer's rules (matched on host, method and path). The segment records the
// method, URL (without query), client IP, user agent, status and response
// length, and the flags of a 4xx/5xx status or a panic. The response carries
// X-Amzn-Trace-Id with the trace's Root. The handler's context carries the
// span, so pkg/producer and instrumented clients continue the trace.
func Middleware(name string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		incoming := r.Header.Get(TraceHeaderName)
		ctx, span := Default().Start(r.Context(), name, WithKind(KindServer), RemoteParent(incoming),
			WithSamplingRequest(SamplingRequest{Host: r.Host, Method: r.Method, Path: r.URL.Path}))
		sc := span.Context()
		if sc.TraceID != "" {
			resp := "Root=" + sc.TraceID
			if incoming != "" && header.FromString(incoming).SamplingDecision == header.Requested {
				resp += ";" + sampledString(sc.Sampled)
			}
			w.Header().Set(TraceHeaderName, resp)
		}
		rw := &statusWriter{ResponseWriter: w}
		h := HTTP{Method: r.Method, URL: requestURL(r), UserAgent: r.UserAgent()}
		h.ClientIP, h.XForwardedFor = clientIP(r)
		defer func() {
			if p := recover(); p != nil {
				span.SetError(fmt.Errorf("handler panicked: %v", p), Fault)
				h.Status = http.StatusInternalServerError
				span.SetHTTP(h)
				span.End()
				panic(p)
			}
			h.Status, h.ContentLength = rw.status, rw.n
			if h.Status == 0 {
				h.Status = http.StatusOK
			}
			span.SetHTTP(h)
			span.End()
		}()
		next.ServeHTTP(rw, r.WithContext(ctx))
	})
}

func sampledString(s bool) string {
	if s {
		return string(header.Sampled)
	}
	return string(header.NotSampled)
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

// statusWriter records the status and length of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
	n      int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.n += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer (Flush,
// deadlines, hijacking).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Transport traces each request made through base (http.DefaultTransport
// when nil) as a subsegment named after the host, namespace "remote", with
// the method, the URL's scheme and host (a path may hold a secret: webhook
// URLs do), status and flags, and sends the trace header in X-Amzn-Trace-Id. Requests whose context has no trace go through
// untraced. Use it for HTTP APIs that are not AWS SDK clients (an SMS
// provider's REST API).
func Transport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &transport{base: base}
}

type transport struct{ base http.RoundTripper }

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, span := Default().Start(req.Context(), req.URL.Hostname(), WithKind(KindClient))
	if !span.Context().Valid() {
		return t.base.RoundTrip(req)
	}
	out := req.Clone(ctx)
	out.Header.Set(TraceHeaderName, span.TraceHeader())
	// Scheme and host only: webhook URLs carry their secret in the path.
	h := HTTP{Method: req.Method, URL: req.URL.Scheme + "://" + req.URL.Host}
	resp, err := t.base.RoundTrip(out)
	if err != nil {
		span.SetHTTP(h)
		span.SetError(err, Fault)
		span.End()
		return resp, err
	}
	h.Status, h.ContentLength = resp.StatusCode, max(resp.ContentLength, 0)
	span.SetHTTP(h)
	span.End()
	return resp, nil
}
