package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/offload/offload/pkg/idempotency"
	"github.com/offload/offload/pkg/sms"
)

// fakeProvider is an SMS provider that records what it was asked to send
// and answers with err when set.
type fakeProvider struct {
	mu   sync.Mutex
	sent []sms.Request
	err  error
}

func (p *fakeProvider) Name() string { return "fake" }

func (p *fakeProvider) Send(_ context.Context, m sms.Request) (sms.Receipt, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return sms.Receipt{}, p.err
	}
	p.sent = append(p.sent, m)
	return sms.Receipt{Provider: "fake", ID: fmt.Sprint("SM-", len(p.sent))}, nil
}

func (p *fakeProvider) messages() []sms.Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]sms.Request(nil), p.sent...)
}

// newFakeSender is the service's /sms/sync sender (sms.Sender over an
// in-memory idempotency store) in front of a fakeProvider.
func newFakeSender(t testing.TB) *sms.Sender {
	t.Helper()
	s, _ := newFakeSenderWith(t)
	return s
}

func newFakeSenderWith(t testing.TB) (*sms.Sender, *fakeProvider) {
	t.Helper()
	p := &fakeProvider{}
	store, err := idempotency.NewMemory()
	require.NoError(t, err)
	s, err := sms.NewSender(p, store, sms.WithSendTimeout(2*time.Second, 100*time.Millisecond)) // within the test request timeout
	require.NoError(t, err)
	return s, p
}

func setupSMSSync(t *testing.T) (*httptest.Server, *fakeProvider, *fakePublisher) {
	t.Helper()
	auditQ, smsQ := &fakePublisher{}, &fakePublisher{}
	svc := newTestService(t, &fakeStore{}, auditQ, smsQ)
	sender, p := newFakeSenderWith(t)
	svc.smsSync = sender
	srv := httptest.NewServer(svc.routes())
	t.Cleanup(srv.Close)
	return srv, p, smsQ
}

// /sms/sync validates exactly as /sms does — API key, idempotency key,
// numbering plan, one JSON object — and refuses before any provider call.
func TestPostSMSSyncValidatesAsTheQueuedPath(t *testing.T) {
	t.Parallel()
	srv, p, smsQ := setupSMSSync(t)
	for _, c := range []struct {
		name, body string
		headers    map[string]string
		status     int
		errHas     string
	}{
		{"no idempotency key", `{"to":"+14155552671","body":"hi"}`, nil, http.StatusBadRequest, "Idempotency-Key"},
		{"keys differ", `{"requestId":"a","to":"+14155552671","body":"hi"}`, map[string]string{"Idempotency-Key": "b"}, http.StatusBadRequest, "differ"},
		{"drama-range number", `{"requestId":"r-1","to":"+447700900123","body":"hi"}`, nil, http.StatusBadRequest, "invalid phone number"},
		{"not a number", `{"requestId":"r-2","to":"0123","body":"hi"}`, nil, http.StatusBadRequest, "invalid phone number"},
		{"no body", `{"requestId":"r-3","to":"+14155552671"}`, nil, http.StatusBadRequest, "body"},
		{"two objects", `{"requestId":"r-4","to":"+14155552671","body":"hi"}{}`, nil, http.StatusBadRequest, "one object"},
		{"no API key", `{"requestId":"r-5","to":"+14155552671","body":"hi"}`, map[string]string{headerAPIKey: ""}, http.StatusUnauthorized, "API key"},
		{"unknown API key", `{"requestId":"r-6","to":"+14155552671","body":"hi"}`, map[string]string{headerAPIKey: "not-a-key-0123456789"}, http.StatusForbidden, "not valid"},
	} {
		status, out := send(t, srv.URL+"/sms/sync", c.body, c.headers)
		require.Equal(t, c.status, status, "%s: %v", c.name, out)
		require.Contains(t, out["error"], c.errHas, c.name)
	}
	require.Empty(t, p.messages(), "nothing reached the provider")
	require.Empty(t, smsQ.msgs, "nothing was queued")
}

// A valid request is sent on the request path, in E.164, once: the same
// request again is answered from the first send, another text under the
// same id is refused.
func TestPostSMSSyncSendsOnce(t *testing.T) {
	t.Parallel()
	srv, p, smsQ := setupSMSSync(t)
	body := `{"to":"07400 123456","region":"GB","body":"your code is 1234"}`
	key := map[string]string{"Idempotency-Key": "order-17"}
	status, out := send(t, srv.URL+"/sms/sync", body, key)
	require.Equal(t, http.StatusCreated, status, out)
	require.Equal(t, map[string]string{"requestId": "order-17", "status": "sent", "provider": "fake", "providerMessageId": "SM-1"}, out)

	status, out = send(t, srv.URL+"/sms/sync", body, key)
	require.Equal(t, http.StatusOK, status, out)
	require.Equal(t, "already-sent", out["status"])
	require.Equal(t, "SM-1", out["providerMessageId"])

	status, out = send(t, srv.URL+"/sms/sync", `{"to":"07400 123456","region":"GB","body":"another text"}`, key)
	require.Equal(t, http.StatusConflict, status, out)

	require.Equal(t, []sms.Request{{RequestID: "order-17", To: "+447400123456", Body: "your code is 1234"}}, p.messages())
	require.Empty(t, smsQ.msgs)
}

// The provider's answers map to what a client can act on.
func TestPostSMSSyncProviderFailures(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name       string
		err        error
		status     int
		retryAfter string
	}{
		{"rejected", &sms.Error{Provider: "fake", Kind: sms.Rejected, Code: "21211", Message: "invalid 'To' number"}, http.StatusUnprocessableEntity, ""},
		{"throttled", &sms.Error{Provider: "fake", Kind: sms.Retryable, Code: "429", Message: "too many requests", RetryAfter: 3 * time.Second}, http.StatusServiceUnavailable, "3"},
		{"unknown outcome", &sms.Error{Provider: "fake", Kind: sms.Unknown, Code: "500", Message: "internal error"}, http.StatusBadGateway, ""},
	} {
		srv, p, _ := setupSMSSync(t)
		p.err = c.err
		status, out, hdr := sendFull(t, srv.URL+"/sms/sync", `{"requestId":"r-`+c.name+`","to":"+14155552671","body":"hi"}`, nil)
		require.Equal(t, c.status, status, "%s: %v", c.name, out)
		require.Equal(t, c.retryAfter, hdr.Get("Retry-After"), c.name)
		require.Contains(t, out["error"], "r-"+c.name)
		require.NotContains(t, out["error"], "4155552671", "the number is never echoed")
	}
}

func TestPostSMSSyncNotConfiguredIs501(t *testing.T) {
	t.Parallel()
	srv, _, _, _ := setup(t)
	status, out := post(t, srv.URL+"/sms/sync", `{"requestId":"r-1","to":"+14155552671","body":"hi"}`)
	require.Equal(t, http.StatusNotImplemented, status, out)
}
