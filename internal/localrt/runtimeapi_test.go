package localrt

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/offload/offload/pkg/logging/loggingtest"
)

// The Runtime API driven by hand, as a runtime would.
func TestRuntimeAPIServesOneInvocationAtATime(t *testing.T) {
	t.Parallel()
	delivered := make(chan string, 1)
	api, err := newRuntimeAPI(Function{Name: "fn", Handler: "bootstrap"}, func(inv *invocation) { delivered <- inv.requestID })
	require.NoError(t, err)
	t.Cleanup(api.close)
	base := "http://" + api.Addr() + "/2018-06-01/runtime"
	require.Regexp(t, `^127\.0\.0\.1:\d+$`, api.Addr())

	inv := newInvocation("req-1", []byte(`{"k":1}`), "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1", "arn:aws:lambda:us-east-1:1:function:fn", 2*time.Second)
	go func() { api.pending <- inv }()
	resp, err := http.Get(base + "/invocation/next")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.JSONEq(t, `{"k":1}`, string(body))
	require.Equal(t, "req-1", resp.Header.Get("Lambda-Runtime-Aws-Request-Id"))
	require.Equal(t, "arn:aws:lambda:us-east-1:1:function:fn", resp.Header.Get("Lambda-Runtime-Invoked-Function-Arn"))
	require.Equal(t, "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1", resp.Header.Get("Lambda-Runtime-Trace-Id"))
	require.NotEmpty(t, resp.Header.Get("Lambda-Runtime-Deadline-Ms"))
	require.Equal(t, "req-1", <-delivered)
	select {
	case <-api.ready:
	default:
		t.Fatal("the first /next ends init")
	}

	// An unknown id is refused; the right one completes the invocation once.
	resp, err = http.Post(base+"/invocation/req-2/response", "application/json", strings.NewReader(`{}`))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	resp, err = http.Post(base+"/invocation/req-1/response", "application/json", strings.NewReader(`{"ok":true}`))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	out := <-inv.result
	require.Nil(t, out.err)
	require.JSONEq(t, `{"ok":true}`, string(out.payload))
	resp, err = http.Post(base+"/invocation/req-1/error", "application/json", strings.NewReader(`{}`))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusBadRequest, resp.StatusCode, "a completed invocation cannot fail afterwards")
}

func TestRuntimeAPIReportsErrorsAndInitErrors(t *testing.T) {
	t.Parallel()
	api, err := newRuntimeAPI(Function{Name: "fn"}, nil)
	require.NoError(t, err)
	t.Cleanup(api.close)
	base := "http://" + api.Addr() + "/2018-06-01/runtime"

	inv := newInvocation("req-1", []byte(`{}`), "", "arn", time.Second)
	go func() { api.pending <- inv }()
	resp, err := http.Get(base + "/invocation/next")
	require.NoError(t, err)
	resp.Body.Close()
	req, _ := http.NewRequest(http.MethodPost, base+"/invocation/req-1/error", strings.NewReader(`{"errorMessage":"boom","errorType":"MyError"}`))
	req.Header.Set("Lambda-Runtime-Function-Error-Type", "Other")
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	out := <-inv.result
	require.Equal(t, &FunctionError{Type: "MyError", Message: "boom", Payload: []byte(`{"errorMessage":"boom","errorType":"MyError"}`)}, out.err)

	resp, err = http.Post(base+"/init/error", "application/json", strings.NewReader(`{"errorMessage":"no table","errorType":"Runtime.InitError"}`))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	fe := <-api.initErr
	require.Equal(t, "Runtime.InitError", fe.Type)
	require.Equal(t, "no table", fe.Message)
}

func TestRuntimeAPIRegistersExtensions(t *testing.T) {
	t.Parallel()
	api, err := newRuntimeAPI(Function{Name: "fn", Handler: "bootstrap"}, nil)
	require.NoError(t, err)
	require.False(t, api.hasExtensions())
	req, _ := http.NewRequest(http.MethodPost, "http://"+api.Addr()+"/2020-01-01/extension/register", strings.NewReader(`{"events":[]}`))
	req.Header.Set("Lambda-Extension-Name", "GoLangEnableSIGTERM")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NotEmpty(t, resp.Header.Get("Lambda-Extension-Identifier"))
	require.JSONEq(t, `{"functionName":"fn","functionVersion":"$LATEST","handler":"bootstrap"}`, string(body))
	require.True(t, api.hasExtensions(), "the environment will get SIGTERM before SIGKILL")

	// event/next blocks until shutdown, then says so.
	got := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + api.Addr() + "/2020-01-01/extension/event/next")
		if err != nil {
			got <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got <- string(b)
	}()
	select {
	case b := <-got:
		t.Fatalf("event/next returned before shutdown: %s", b)
	case <-time.After(100 * time.Millisecond):
	}
	api.close()
	select {
	case b := <-got:
		require.NotContains(t, b, "INVOKE")
	case <-time.After(2 * time.Second):
		t.Fatal("event/next still blocked after shutdown")
	}
}

func BenchmarkWarmInvoke(b *testing.B) {
	logs := &loggingtest.Buffer{}
	cfg := Config{Region: "us-east-1", BinDir: fixtureBin, Logs: logs}.withDefaults()
	p := newPool(Function{Name: "bench", ARN: "arn", Folder: "behave", Timeout: 3 * time.Second, MemoryMB: 128, Env: map[string]string{"FIXTURE_MODE": "succeed"}}, cfg, &logSink{w: io.Discard})
	defer p.close()
	payload := []byte(`{"Records":[{"messageId":"1","body":"x"}]}`)
	if _, err := p.invoke(b.Context(), payload, ""); err != nil { // cold start outside the loop
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		res, err := p.invoke(b.Context(), payload, "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1")
		if err != nil || res.Err != nil {
			b.Fatal(err, res.Err)
		}
	}
}
