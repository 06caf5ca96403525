package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const smsOK = `{"requestId":"r-1","to":"+14155552671","body":"hi"}`

// Every write endpoint refuses a request without a key (401) and with a key
// that is not active (403) before reading the body or enqueueing anything;
// the health check stays open.
func TestWriteEndpointsRequireAnAPIKey(t *testing.T) {
	t.Parallel()
	srv, auditQ, smsQ, store := setup(t)
	for _, path := range []string{"/audit", "/audit/sync", "/sms"} {
		status, out, h := sendFull(t, srv.URL+path, `{"messageId":"m","auditText":"x"}`, map[string]string{headerAPIKey: ""})
		require.Equal(t, http.StatusUnauthorized, status, path)
		require.Contains(t, out["error"], headerAPIKey)
		require.Equal(t, `ApiKey header="X-API-Key"`, h.Get("WWW-Authenticate"))

		for _, bad := range []string{"wrong", testKey + "x", testKey[:len(testKey)-1], strings.ToUpper(testKey)} {
			status, out = send(t, srv.URL+path, `{"messageId":"m","auditText":"x"}`, map[string]string{headerAPIKey: bad})
			require.Equal(t, http.StatusForbidden, status, path)
			require.NotContains(t, out["error"], bad, "the key is not echoed")
		}
	}
	require.Empty(t, auditQ.msgs)
	require.Empty(t, smsQ.msgs)
	require.Empty(t, store.records)
	resp, err := http.Get(srv.URL + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

// Rotation: the secret lists several active keys; a reload adds the new one
// and drops the removed one, and an expired key is refused.
func TestAPIKeysRotateThroughTheSecret(t *testing.T) {
	t.Parallel()
	sm := &fakeSecrets{value: `{"keys":[{"id":"old","key":"old-key-0123456789abcdef"}]}`}
	now := testNow
	ks := newKeyStore(sm, "api-keys")
	ks.now = func() time.Time { return now }
	var retained map[string]bool
	ks.onChange = func(ids map[string]bool) { retained = ids }
	require.NoError(t, ks.Load(context.Background()))
	id, ok := ks.Check("old-key-0123456789abcdef")
	require.True(t, ok)
	require.Equal(t, "old", id)
	_, ok = ks.Check("new-key-0123456789abcdef")
	require.False(t, ok)

	// Both active during the change-over; the old one with an end.
	sm.set(`{"keys":[{"id":"old","key":"old-key-0123456789abcdef","expires":"2026-11-27T00:00:00Z"},{"id":"new","key":"new-key-0123456789abcdef"}]}`)
	require.NoError(t, ks.Load(context.Background()))
	require.Equal(t, map[string]bool{"old": true, "new": true}, retained)
	for key, want := range map[string]string{"old-key-0123456789abcdef": "old", "new-key-0123456789abcdef": "new"} {
		id, ok := ks.Check(key)
		require.True(t, ok, want)
		require.Equal(t, want, id)
	}
	now = time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	_, ok = ks.Check("old-key-0123456789abcdef")
	require.False(t, ok, "expired")

	// A broken secret keeps the keys there were; the error names no key.
	sm.set(`{"keys":[{"id":"new","key":"short"}]}`)
	err := ks.Load(context.Background())
	require.ErrorContains(t, err, `key "new": shorter than 16 bytes`)
	require.NotContains(t, err.Error(), "short\"")
	_, ok = ks.Check("new-key-0123456789abcdef")
	require.True(t, ok, "kept")
	sm.err = errors.New("AccessDenied")
	require.ErrorContains(t, ks.Load(context.Background()), "AccessDenied")
	_, ok = ks.Check("new-key-0123456789abcdef")
	require.True(t, ok, "kept")
}

func TestTheKeysSecretIsValidated(t *testing.T) {
	t.Parallel()
	for secret, want := range map[string]string{
		`not json`:                              "not the expected JSON object",
		`{"keys":[]}`:                           "no keys",
		`{"keys":[{"key":"0123456789abcdef"}]}`: "id must be",
		`{"keys":[{"id":"a","key":"0123456789abcdef"},{"id":"a","key":"0123456789abcdeg"}]}`: `id "a" is used twice`,
		`{"keys":[{"id":"a","key":"0123456789abcdef"},{"id":"b","key":"0123456789abcdef"}]}`: "listed twice",
	} {
		_, err := parseKeys([]byte(secret))
		require.ErrorContains(t, err, want, secret)
		require.NotContains(t, err.Error(), "0123456789abcde", "no key material in errors")
	}
}

// Run reloads on its interval: a key added to the secret is accepted without
// a restart.
func TestRunReloadsTheKeys(t *testing.T) {
	t.Parallel()
	sm := &fakeSecrets{value: `{"keys":[{"id":"a","key":"a-key-0123456789abcdef"}]}`}
	ks := newKeyStore(sm, "api-keys")
	require.NoError(t, ks.Load(context.Background()))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { ks.Run(ctx, time.Millisecond, slog.New(slog.NewTextHandler(io.Discard, nil))); close(done) }()
	sm.set(`{"keys":[{"id":"b","key":"b-key-0123456789abcdef"}]}`)
	require.Eventually(t, func() bool { _, ok := ks.Check("b-key-0123456789abcdef"); return ok }, 10*time.Second, time.Millisecond)
	_, ok := ks.Check("a-key-0123456789abcdef")
	require.False(t, ok, "removed")
	cancel()
	<-done
}

// Each key has its own bucket: a burst beyond it is 429 with Retry-After and
// enqueues nothing; another key is not affected; tokens come back with time.
func TestABurstBeyondTheLimitIs429(t *testing.T) {
	t.Parallel()
	auditQ, smsQ, store := &fakePublisher{}, &fakePublisher{}, &fakeStore{}
	svc := newTestService(t, store, auditQ, smsQ)
	svc.keys = testKeys(t, `{"keys":[{"id":"k1","key":"`+testKey+`"},{"id":"k2","key":"second-key-0123456789"}]}`)
	now := testNow
	var mu sync.Mutex
	svc.limits = newRateLimiter(0.5, 3) // 3 at once, then one every 2 s
	svc.limits.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	srv := httptest.NewServer(svc.routes())
	t.Cleanup(srv.Close)

	var statuses []int
	for range 5 {
		status, out, h := sendFull(t, srv.URL+"/sms", smsOK, nil)
		statuses = append(statuses, status)
		if status == http.StatusTooManyRequests {
			require.Equal(t, "2", h.Get("Retry-After"), out)
		}
	}
	require.Equal(t, []int{202, 202, 202, 429, 429}, statuses)
	require.Len(t, smsQ.msgs, 3, "refused requests are not enqueued")

	status, _ := send(t, srv.URL+"/sms", smsOK, map[string]string{headerAPIKey: "second-key-0123456789"})
	require.Equal(t, http.StatusAccepted, status, "another key has its own bucket")

	mu.Lock()
	now = now.Add(2 * time.Second)
	mu.Unlock()
	status, _ = send(t, srv.URL+"/sms", smsOK, nil)
	require.Equal(t, http.StatusAccepted, status, "a token came back")
	status, _ = send(t, srv.URL+"/sms", smsOK, nil)
	require.Equal(t, http.StatusTooManyRequests, status)
}

func TestRetainDropsTheBucketsOfRemovedKeys(t *testing.T) {
	t.Parallel()
	l := newRateLimiter(1, 1)
	for _, id := range []string{"a", "b"} {
		_, ok := l.allow(id)
		require.True(t, ok)
	}
	l.retain(map[string]bool{"b": true})
	require.Len(t, l.byKey, 1)
	_, ok := l.allow("b")
	require.False(t, ok, "b's bucket is kept, still empty")
}

func TestRetryAfterIsWholeSecondsRoundedUp(t *testing.T) {
	t.Parallel()
	for wait, want := range map[time.Duration]int{time.Millisecond: 1, time.Second: 1, 1001 * time.Millisecond: 2, 90 * time.Second: 90} {
		require.Equal(t, want, retryAfterSeconds(wait), wait)
	}
}

// A body announced or sent over the limit is 413 before it is decoded.
func TestAnOversizedBodyIs413BeforeDecoding(t *testing.T) {
	t.Parallel()
	srv, _, smsQ, _ := setup(t)
	big := strings.Repeat(" ", maxRequestBytes) + smsOK
	status, out := send(t, srv.URL+"/sms", big, nil)
	require.Equal(t, http.StatusRequestEntityTooLarge, status, out)
	require.Empty(t, smsQ.msgs)

	// Chunked, no Content-Length: cut by http.MaxBytesReader.
	pr, pw := io.Pipe()
	go func() { _, _ = io.Copy(pw, strings.NewReader(big)); pw.Close() }()
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/sms", pr)
	require.NoError(t, err)
	req.Header.Set(headerAPIKey, testKey)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
}

func TestTheServerHasEveryLimit(t *testing.T) {
	t.Parallel()
	srv := newServer(http.NotFoundHandler(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.Equal(t, readHeaderTimeout, srv.ReadHeaderTimeout)
	require.Positive(t, srv.ReadTimeout)
	require.Greater(t, srv.WriteTimeout, requestTimeout, "a request's work ends before its answer is cut")
	require.Positive(t, srv.IdleTimeout)
	require.Equal(t, 16<<10, srv.MaxHeaderBytes)
}

// SIGTERM (ctx ends) stops new connections but the request in flight is
// answered before serve returns.
func TestShutdownDrainsRequestsInFlight(t *testing.T) {
	t.Parallel()
	entered, release := make(chan struct{}), make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		close(entered)
		<-release
		writeJSON(w, http.StatusAccepted, map[string]string{"status": "done"})
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() {
		served <- serve(ctx, newServer(h, slog.New(slog.NewTextHandler(io.Discard, nil))), ln, time.Minute)
	}()

	answered := make(chan int, 1)
	go func() {
		resp, err := http.Post("http://"+ln.Addr().String()+"/sms", "application/json", strings.NewReader("{}"))
		if err != nil {
			answered <- 0
			return
		}
		resp.Body.Close()
		answered <- resp.StatusCode
	}()
	<-entered
	cancel()
	// Shutdown has begun once the listener refuses new connections.
	require.Eventually(t, func() bool {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err == nil {
			c.Close()
		}
		return err != nil
	}, 10*time.Second, 5*time.Millisecond)
	select {
	case err := <-served:
		t.Fatalf("serve returned (%v) with a request in flight", err)
	default:
	}
	close(release)
	require.Equal(t, http.StatusAccepted, <-answered)
	require.NoError(t, <-served)
}
