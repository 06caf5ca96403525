package tracing_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/offload/offload/pkg/tracing"
)

func TestMiddlewareContinuesIncomingTrace(t *testing.T) {
	tr, rec := setup(t, func(o *setupOpts) { o.sample = false })
	useDefault(t, tr)
	var inHandler string
	srv := httptest.NewServer(tracing.Middleware("example-service", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
	want := fmt.Sprintf(`{"name":"example-service","id":%q,"trace_id":%q,"parent_id":%q,"start_time":1772366400.001,"end_time":1772366400.002,
		"http":{"request":{"method":"POST","url":%q,"client_ip":"203.0.113.7","user_agent":"test-agent","x_forwarded_for":true},
		        "response":{"status":202,"content_length":11}}}`,
		d["id"], producerTrace, producerSend, srv.URL+"/audit")
	require.JSONEq(t, want, rec.raw(t, 0))
}

func TestMiddlewareStartsSampledTraceAndFlagsStatus(t *testing.T) {
	tr, rec := setup(t)
	useDefault(t, tr)
	h := tracing.Middleware("svc", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
	}
	last := rec.doc(t, 4)
	require.Equal(t, float64(500), last["http"].(map[string]any)["response"].(map[string]any)["status"])
	require.Contains(t, last["cause"].(map[string]any)["exceptions"].([]any)[0].(map[string]any)["message"], "kaboom")
}

func TestMiddlewareAnswersSampledWhenRequested(t *testing.T) {
	tr, _ := setup(t)
	useDefault(t, tr)
	h := tracing.Middleware("svc", http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	rr := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "http://svc.local/", nil)
	req.Header.Set("X-Amzn-Trace-Id", "Root="+producerTrace+";Sampled=?")
	h.ServeHTTP(rr, req)
	require.Equal(t, "Root="+producerTrace+";Sampled=1", rr.Header().Get("X-Amzn-Trace-Id"))
}

func TestTransportTracesOutgoingRequests(t *testing.T) {
	tr, rec := setup(t)
	useDefault(t, tr)
	var gotHeader string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotHeader = r.Header.Get("X-Amzn-Trace-Id")
		w.WriteHeader(http.StatusBadRequest)
	}))
	defer srv.Close()
	client := &http.Client{Transport: tracing.Transport(nil)}

	ctx, seg := tr.Start(context.Background(), "sms-sender", tracing.WithKind(tracing.KindServer))
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/2010-04-01/Accounts/AC1/Messages.json?x=1", nil)
	resp, err := client.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Empty(t, req.Header.Get("X-Amzn-Trace-Id"), "the caller's request is not modified")

	// Without a trace the request goes through untraced.
	resp, err = client.Get(srv.URL)
	require.NoError(t, err)
	resp.Body.Close()
	require.Empty(t, gotHeader)
	seg.End()

	sub := rec.doc(t, 0)["subsegments"].([]any)[0].(map[string]any)
	require.Equal(t, "127.0.0.1", sub["name"])
	require.Equal(t, "remote", sub["namespace"])
	require.Equal(t, true, sub["error"])
	require.Equal(t, map[string]any{"request": map[string]any{"method": "POST", "url": srv.URL},
		"response": map[string]any{"status": float64(400)}}, sub["http"])
	require.Equal(t, 1, rec.count())
}

func TestTransportRecordsConnectionErrors(t *testing.T) {
	tr, rec := setup(t)
	useDefault(t, tr)
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	ctx, seg := tr.Start(context.Background(), "svc", tracing.WithKind(tracing.KindServer))
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	_, err := (&http.Client{Transport: tracing.Transport(nil)}).Do(req)
	require.Error(t, err)
	seg.End()
	sub := rec.doc(t, 0)["subsegments"].([]any)[0].(map[string]any)
	require.Equal(t, true, sub["fault"])
	require.Equal(t, true, sub["cause"].(map[string]any)["exceptions"].([]any)[0].(map[string]any)["remote"])
}

func ExampleMiddleware() {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /audit", func(w http.ResponseWriter, r *http.Request) {
		// r.Context() carries the request's segment: publish with it and the
		// message's AWSTraceHeader continues the trace.
		w.WriteHeader(http.StatusAccepted)
	})
	handler := tracing.Middleware("example-service", mux)
	_ = &http.Server{Handler: handler}
}
