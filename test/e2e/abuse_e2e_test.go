//go:build e2e

package e2e

import (
	"bytes"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The example service on the deployed stack is not an open SMS relay
// (issue 15): without an API key POST /sms is 401, with one that is not
// valid 403, a body over the
// limit is 413 before it is decoded, and a burst beyond the key's token
// bucket (rate 5/s, burst 10 by default) is 429 with Retry-After. The
// burst's bodies are invalid, so nothing it lets through sends a text.
func TestExampleServiceRefusesAnonymousOversizedAndBurstRequests(t *testing.T) {
	t.Parallel()
	svc := startExampleService(t)
	send := func(key, body string) (*http.Response, string) {
		req, err := http.NewRequest(http.MethodPost, svc.url+"/sms", strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		if key != "" {
			req.Header.Set("X-API-Key", key)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		return resp, b.String()
	}

	resp, body := send("", `{"to":"+14155550123","body":"hi"}`)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "no key: %s", body)
	resp, body = send("not-"+svc.apiKey, `{"to":"+14155550123","body":"hi"}`)
	require.Equal(t, http.StatusForbidden, resp.StatusCode, "a key that is not valid: %s", body)

	huge := `{"to":"+14155550123","body":"` + strings.Repeat("x", 2<<20) + `"}`
	resp, body = send(svc.apiKey, huge)
	require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode, "a 2 MiB body: %s", body)

	// Forty at once with the key: the bucket holds 10 (one went on the
	// oversized request) and refills at 5/s, so however slow the machine,
	// at most 10 + 5/s × elapsed get past the limiter (400: invalid body)
	// and the rest are 429.
	const n = 40
	codes := make([]int, n)
	retryAfter := make([]string, n)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, _ := send(svc.apiKey, `{}`)
			codes[i], retryAfter[i] = r.StatusCode, r.Header.Get("Retry-After")
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	passed, limited := 0, 0
	for i, c := range codes {
		switch c {
		case http.StatusBadRequest:
			passed++
		case http.StatusTooManyRequests:
			limited++
			require.NotEmpty(t, retryAfter[i], "a 429 says when to come back")
		default:
			t.Fatalf("request %d of the burst answered %d, want 400 (invalid body) or 429", i, c)
		}
	}
	bound := 10 + int(5*elapsed.Seconds()) + 1
	require.LessOrEqual(t, passed, bound, "%d of %d passed the limiter in %s", passed, n, elapsed)
	if bound < n {
		require.Positive(t, limited, "a burst of %d in %s is limited", n, elapsed)
	}
}
