package main

import (
	"bytes"
	"math"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
)

// fuzzPaths are the endpoints the fuzz targets post to.
var fuzzPaths = []string{"/sms", "/audit", "/audit/sync", "/sms/sync", "/audit?durable=1"}

// FuzzHandlers posts arbitrary bodies and header values to every write
// endpoint of a service whose publishers and audit store are the real ones
// over fake SQS and DynamoDB clients that keep those services' rules (sizes,
// characters, key lengths). No input may be answered 5xx or panic: what a
// client sends is either accepted or refused as the client's fault. The seed
// corpus is in testdata/fuzz/FuzzHandlers; `go test -fuzz FuzzHandlers`
// explores further.
func FuzzHandlers(f *testing.F) {
	f.Add(uint8(0), []byte(`{"requestId":"r-1","to":"+14155552671","body":"hi"}`), "", testKey)
	f.Add(uint8(0), []byte(`{"to":"07400 123456","region":"GB","body":"hi"}`), "order-17", testKey)
	f.Add(uint8(1), []byte(`{"auditText":"user 42 signed in"}`), "", testKey)
	f.Add(uint8(2), []byte(`{"messageId":"m-1","auditText":"x","auditTime":"/Date(1700000000000+0100)/"}`), "m-1", testKey)
	f.Add(uint8(0), []byte(`{"requestId":"r-1"}`), "r-2", "wrong")
	f.Fuzz(func(t *testing.T, path uint8, body []byte, idempotencyKey, apiKey string) {
		svc, _, _, _ := newRealService(t, 262144)
		svc.limits = newRateLimiter(math.Inf(1), 1)
		req := httptest.NewRequest(http.MethodPost, fuzzPaths[int(path)%len(fuzzPaths)], bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if apiKey != "" {
			req.Header.Set(headerAPIKey, apiKey)
		}
		if idempotencyKey != "" {
			req.Header.Set(headerIdempotencyKey, idempotencyKey)
		}
		rec := httptest.NewRecorder()
		svc.routes().ServeHTTP(rec, req)
		require.Less(t, rec.Code, 500, "%s answered %d: %s", req.URL.Path, rec.Code, rec.Body)
		require.GreaterOrEqual(t, rec.Code, 200)
	})
}

// FuzzParseKeys: no secret content makes parseKeys panic, and what it
// accepts can be checked.
func FuzzParseKeys(f *testing.F) {
	f.Add([]byte(`{"keys":[{"id":"k1","key":"0123456789abcdef"}]}`))
	f.Add([]byte(`{"keys":[{"id":"k1","key":"0123456789abcdef","expires":"2027-01-01T00:00:00Z"},{"id":"k2","key":"fedcba9876543210"}]}`))
	f.Add([]byte(`{"keys":null}`))
	f.Fuzz(func(t *testing.T, secret []byte) {
		keys, err := parseKeys(secret)
		if err != nil {
			for _, k := range keys {
				require.NotEmpty(t, k.id)
			}
			return
		}
		require.NotEmpty(t, keys)
	})
}
