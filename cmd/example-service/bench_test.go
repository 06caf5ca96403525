package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// BenchmarkPostAudit is the service's own work for one POST /audit — API
// key, rate limit, decode, validation, the audit buffer's enqueue, the log
// line and the answer — without the network (make bench-latency measures
// that, client-side). The buffer is flushed in the background as in
// production, to a fake SQS.
func BenchmarkPostAudit(b *testing.B) {
	svc, _, _, _ := newRealService(b, 262144)
	buf, err := newAuditBuffer(newTestPublisher(b, &fakeSQS{}), 100000, 100*time.Millisecond, svc.log)
	require.NoError(b, err)
	b.Cleanup(func() { _ = buf.Close(context.Background()) })
	svc.auditAsync = buf
	svc.limits = newRateLimiter(1e9, 1<<30) // the limiter runs; the bench stays under it
	h := svc.routes()
	body := `{"messageId":"%s","auditText":"` + strings.Repeat("user 42 signed in ", 8) + `"}`
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		req := httptest.NewRequest(http.MethodPost, "/audit", strings.NewReader(fmt.Sprintf(body, fmt.Sprint("m-", i))))
		req.Header.Set(headerAPIKey, testKey)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusAccepted {
			b.Fatalf("answered %d: %s", rec.Code, rec.Body)
		}
	}
}
