package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/offload/offload/pkg/audit"
)

// A client that retries /sms after a lost 202 must send the same request
// again, not a second text: the service never invents the key.
func TestPostSMSWithoutAnIdempotencyKeyIsRefused(t *testing.T) {
	t.Parallel()
	srv, _, smsQ, _ := setup(t)
	status, out := send(t, srv.URL+"/sms", `{"to":"+14155552671","body":"hi"}`, nil)
	require.Equal(t, http.StatusBadRequest, status)
	require.Contains(t, out["error"], "requestId")
	require.Contains(t, out["error"], "Idempotency-Key")
	require.Empty(t, smsQ.msgs, "nothing enqueued")
}

func TestPostSMSTakesTheKeyFromTheHeaderOrTheBody(t *testing.T) {
	t.Parallel()
	srv, _, smsQ, _ := setup(t)
	status, out := send(t, srv.URL+"/sms", `{"to":"+14155552671","body":"hi"}`, map[string]string{"Idempotency-Key": "order-17"})
	require.Equal(t, http.StatusAccepted, status, out)
	require.Equal(t, "order-17", out["requestId"])
	status, out = send(t, srv.URL+"/sms", `{"requestId":"order-18","to":"+14155552671","body":"hi"}`, nil)
	require.Equal(t, http.StatusAccepted, status, out)
	require.Equal(t, "order-18", out["requestId"])
	status, out = send(t, srv.URL+"/sms", `{"requestId":"order-19","to":"+14155552671","body":"hi"}`, map[string]string{"Idempotency-Key": "order-19"})
	require.Equal(t, http.StatusAccepted, status, out)
	require.Len(t, smsQ.msgs, 3)
	for i, want := range []string{"order-17", "order-18", "order-19"} {
		require.Equal(t, want, smsQ.msgs[i].IdempotencyKey)
		require.Contains(t, smsQ.msgs[i].Body, `"requestId":"`+want+`"`)
	}
}

func TestPostSMSWithTwoDifferentKeysIsRefused(t *testing.T) {
	t.Parallel()
	srv, _, smsQ, _ := setup(t)
	status, out := send(t, srv.URL+"/sms", `{"requestId":"a","to":"+14155552671","body":"hi"}`, map[string]string{"Idempotency-Key": "b"})
	require.Equal(t, http.StatusBadRequest, status)
	require.Contains(t, out["error"], "differ")
	require.Empty(t, smsQ.msgs)
}

// An audit text the decoder accepts but the queue cannot carry (the queue's
// 256 KiB against audit.MaxTextBytes) is the client's too-large request, not
// an outage to retry.
func TestAMessageOverTheQueuesLimitIs413(t *testing.T) {
	t.Parallel()
	srv, auditQ, smsQ, _ := setupReal(t, 1024)
	status, out := send(t, srv.URL+"/audit", `{"messageId":"m-big","auditText":"`+strings.Repeat("x", 2000)+`"}`, nil)
	require.Equal(t, http.StatusRequestEntityTooLarge, status, out)
	require.Contains(t, out["error"], "m-big")
	status, out = send(t, srv.URL+"/sms", `{"requestId":"s-big","to":"+14155552671","body":"`+strings.Repeat("x", 1500)+`"}`, nil)
	require.Equal(t, http.StatusRequestEntityTooLarge, status, out)
	require.Zero(t, auditQ.calls()+smsQ.calls(), "refused before SQS")
}

// SQS itself refusing a body for its size (a queue smaller than the guard)
// is a 413 too, where the client waits for SQS (durable). A buffered record
// has been answered 202 before SQS refuses it: that is the trade-off, and the
// failure is reported (log, Close's error), not silent.
func TestSQSRefusingTheSizeIs413(t *testing.T) {
	t.Parallel()
	srv, auditQ, _, _ := setupReal(t, 1<<20)
	auditQ.maxBody = 1024
	status, out := send(t, srv.URL+"/audit?durable=1", `{"messageId":"m-big","auditText":"`+strings.Repeat("x", 2000)+`"}`, nil)
	require.Equal(t, http.StatusRequestEntityTooLarge, status, out)
}

func TestARequestBodyOverTheLimitIs413(t *testing.T) {
	t.Parallel()
	srv, auditQ, _, _ := setup(t)
	status, out := send(t, srv.URL+"/audit", `{"auditText":"`+strings.Repeat("x", audit.MaxTextBytes+8192)+`"}`, nil)
	require.Equal(t, http.StatusRequestEntityTooLarge, status, out)
	require.Empty(t, auditQ.msgs)
}

// SQS refuses U+FFFE/U+FFFF, lone surrogates and control characters in a
// body or attribute: a client sending them gets 400, not an outage (503)
// it would retry forever. Found by FuzzHandlers.
func TestTextAQueueCannotCarryIs400(t *testing.T) {
	t.Parallel()
	svc, auditSQS, smsSQS, _ := newRealService(t, 262144)
	for _, c := range []struct{ path, body, key string }{
		{"/sms", `{"requestId":"r-1","to":"+14155552671","body":"\ufffe"}`, ""},
		{"/sms", `{"to":"+14155552671","body":"hi"}`, "a\x01b"},
		{"/audit", `{"messageId":"m-1","auditText":"\uffff"}`, ""},
		{"/audit", `{"messageId":"m-\u0000","auditText":"x"}`, ""},
	} {
		req := httptest.NewRequest(http.MethodPost, c.path, strings.NewReader(c.body))
		req.Header.Set(headerAPIKey, testKey)
		if c.key != "" {
			req.Header[headerIdempotencyKey] = []string{c.key} // as a raw client would send it
		}
		rec := httptest.NewRecorder()
		svc.routes().ServeHTTP(rec, req)
		require.Equal(t, http.StatusBadRequest, rec.Code, "%s %s: %s", c.path, c.body, rec.Body)
	}
	require.Zero(t, auditSQS.calls()+smsSQS.calls())
}
