package tracing_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/offload/offload/pkg/tracing"
	"github.com/offload/offload/pkg/tracing/tracinghttp"
)

func TestMiddlewareContinuesIncomingTrace(t *testing.T) {
	t.Parallel()
	tp, rec := newProvider(t, func(c *tracing.Config) { c.Sampling = fixedSampler{false} })
	var inHandler string
	srv := httptest.NewServer(tracinghttp.Middleware(tp, "example-service", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inHandler = tracing.TraceHeader(r.Context())
		w.WriteHeader(http.StatusAccepted)
		_, _ = io.WriteString(w, `{"ok":true}`)
	})))
	defer srv.Close()

	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/audit?token=secret", strings.NewReader("{}"))
	req.Header.Set("X-Amzn-Trace-Id", producerHdr)
	req.Header.Set("User-Agent", "test-agent")
	req.Header.Set("X-Forwarded-For", "203.0.113.7, 10.0.0.1")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	require.Equal(t, "Root="+producerTrace, resp.Header.Get("X-Amzn-Trace-Id"))

	require.Equal(t, 1, rec.count(), "Sampled=1 in the request wins over rules that sample nothing")
	d := rec.doc(t, 0)
	require.Equal(t, "Root="+producerTrace+";Parent="+d["id"].(string)+";Sampled=1", inHandler, "the handler's context carries the segment")
	require.Equal(t, "example-service", d["name"])
	require.Equal(t, producerTrace, d["trace_id"])
	require.Equal(t, producerSend, d["parent_id"])
	require.Nil(t, d["type"], "a segment")
	require.Equal(t, map[string]any{
		"request":  map[string]any{"method": "POST", "url": srv.URL + "/audit", "client_ip": "203.0.113.7", "user_agent": "test-agent", "x_forwarded_for": true},
		"response": map[string]any{"status": float64(202), "content_length": float64(11)},
	}, d["http"])
	require.NotContains(t, string(rec.raw(0)), "secret", "no query string in a trace")
}

func TestMiddlewareStartsSampledTraceAndFlagsStatus(t *testing.T) {
	t.Parallel()
	tp, rec := newProvider(t)
	h := tracinghttp.Middleware(tp, "svc", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/bad":
			w.WriteHeader(http.StatusBadRequest)
		case "/busy":
			w.WriteHeader(http.StatusTooManyRequests)
		case "/boom":
			w.WriteHeader(http.StatusServiceUnavailable)
		case "/panic":
			panic("kaboom")
		}
	}))
	for _, p := range []string{"/ok", "/bad", "/busy", "/boom"} {
		rr := httptest.NewRecorder()
		h.ServeHTTP(rr, httptest.NewRequest(http.MethodGet, "http://svc.local"+p, nil))
		require.Regexp(t, `^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$`, rr.Header().Get("X-Amzn-Trace-Id"))
	}
	require.Panics(t, func() {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "http://svc.local/panic", nil))
	})
	require.Equal(t, 5, rec.count())
	flags := func(d map[string]any) string {
		var f []string
		for _, k := range []string{"error", "throttle", "fault"} {
			if d[k] == true {
				f = append(f, k)
			}
		}
		return strings.Join(f, ",")
	}
	for i, want := range []string{"", "error", "error,throttle", "fault", "fault"} {
		d := rec.doc(t, i)
		require.Equal(t, want, flags(d), "request %d", i)
		_, hasParent := d["parent_id"]
		require.False(t, hasParent)
		require.Equal(t, "svc", d["name"])
	}
	last := rec.doc(t, 4)
	require.Equal(t, float64(500), last["http"].(map[string]any)["response"].(map[string]any)["status"])
	require.Contains(t, last["cause"].(map[string]any)["exceptions"].([]any)[0].(map[string]any)["message"], "kaboom")
}

// The sampling rules match the request's host, method and path.
func TestMiddlewareSamplesByRules(t *testing.T) {
	t.Parallel()
	rules, err := tracing.NewSampling(true, []byte(`{"version":2,"default":{"fixed_target":1,"rate":1},"rules":[`+
		`{"description":"health","host":"*","http_method":"GET","url_path":"/healthz","fixed_target":0,"rate":0}]}`), nil)
	require.NoError(t, err)
	tp, rec := newProvider(t, func(c *tracing.Config) { c.Sampling = rules })
	h := tracinghttp.Middleware(tp, "svc", http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "http://svc.local/healthz", nil))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "http://svc.local/audit", nil))
	require.Equal(t, 1, rec.count())
	require.Equal(t, "POST", rec.doc(t, 0)["http"].(map[string]any)["request"].(map[string]any)["method"])
}

func TestMiddlewareAnswersSampledWhenRequested(t *testing.T) {
	t.Parallel()
	tp, _ := newProvider(t)
	h := tracinghttp.Middleware(tp, "svc", http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	rr := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "http://svc.local/", nil)
	req.Header.Set("X-Amzn-Trace-Id", "Root="+producerTrace+";Parent="+producerSend+";Sampled=?")
	h.ServeHTTP(rr, req)
	require.Equal(t, "Root="+producerTrace+";Sampled=1", rr.Header().Get("X-Amzn-Trace-Id"))
}

func TestTransportTracesOutgoingRequests(t *testing.T) {
	t.Parallel()
	tp, rec := newProvider(t)
	tr := tracing.NewTracer(tp)
	var gotHeader, gotParent string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotHeader, gotParent = r.Header.Get("X-Amzn-Trace-Id"), r.Header.Get("traceparent")
		w.WriteHeader(http.StatusBadRequest)
	}))
	defer srv.Close()
	client := &http.Client{Transport: tracing.Transport(tp, nil)}

	ctx, seg := tr.Start(context.Background(), "sms-sender", tracing.WithKind(tracing.KindServer))
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/2010-04-01/Accounts/AC1/Messages.json?x=1", nil)
	resp, err := client.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Empty(t, req.Header.Get("X-Amzn-Trace-Id"), "the caller's request is not modified")
	require.Equal(t, 1, rec.count())
	sub := rec.doc(t, 0)
	require.Equal(t, "Root="+seg.Context().TraceID+";Parent="+sub["id"].(string)+";Sampled=1", gotHeader)
	require.Contains(t, gotParent, sub["id"].(string))

	// Without a trace the request goes through untraced.
	gotHeader = "unset"
	resp, err = client.Get(srv.URL)
	require.NoError(t, err)
	resp.Body.Close()
	require.Empty(t, gotHeader)
	seg.End()

	require.Equal(t, "127.0.0.1", sub["name"])
	require.Equal(t, "subsegment", sub["type"])
	require.Equal(t, seg.Context().SpanID, sub["parent_id"])
	require.Equal(t, "remote", sub["namespace"])
	require.Equal(t, true, sub["error"])
	require.Equal(t, map[string]any{"request": map[string]any{"method": "POST", "url": srv.URL},
		"response": map[string]any{"status": float64(400)}}, sub["http"], "scheme and host only: webhook URLs hold secrets")
	require.Equal(t, 2, rec.count())
}

func TestTransportRecordsConnectionErrors(t *testing.T) {
	t.Parallel()
	tp, rec := newProvider(t)
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	ctx, seg := tracing.NewTracer(tp).Start(context.Background(), "svc", tracing.WithKind(tracing.KindServer))
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	_, err := (&http.Client{Transport: tracing.Transport(tp, nil)}).Do(req)
	require.Error(t, err)
	seg.End()
	sub := rec.doc(t, 0)
	require.Equal(t, true, sub["fault"])
	require.Equal(t, true, sub["cause"].(map[string]any)["exceptions"].([]any)[0].(map[string]any)["remote"])
}
