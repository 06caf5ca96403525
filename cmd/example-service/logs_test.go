package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/offload/offload/pkg/audit"
	"github.com/offload/offload/pkg/logging"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// The service's lines use the shared vocabulary (docs/development.md, "Log
// fields"): message_id is the SQS id, domain ids have their own names, and
// numbers are masked by pkg/logging's policy.
func TestLogFields(t *testing.T) {
	t.Parallel()
	auditQ, smsQ := &fakePublisher{}, &fakePublisher{}
	svc := newTestService(t, &fakeStore{outcome: audit.Created}, auditQ, smsQ)
	var out syncBuffer
	svc.log = slog.New(logging.NewSlogHandler(&out, nil))
	srv := httptest.NewServer(svc.routes())
	t.Cleanup(srv.Close)

	status, _ := post(t, srv.URL+"/audit", `{"messageId":"m-1","auditText":"x"}`)
	require.Equal(t, http.StatusAccepted, status)
	status, _ = post(t, srv.URL+"/sms", `{"requestId":"r-1","to":"+447400123456","body":"hi"}`)
	require.Equal(t, http.StatusAccepted, status)

	out.mu.Lock()
	raw := out.b.String()
	out.mu.Unlock()
	lines := map[string]map[string]any{}
	for _, l := range strings.Split(strings.TrimSpace(raw), "\n") {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &m), l)
		lines[m["message"].(string)] = m
	}
	a, s := lines["audit offloaded"], lines["sms offloaded"]
	require.NotNil(t, a, raw)
	require.NotNil(t, s, raw)
	require.Equal(t, "m-1", a[logging.FieldAuditID])
	require.Equal(t, "sqs-1", a[logging.FieldMessageID])
	require.Equal(t, "k1", a[logging.FieldClientKeyID])
	require.Equal(t, "r-1", s[logging.FieldSMSRequestID])
	require.Equal(t, "+44********56", s["to"])
	require.NotContains(t, s, logging.FieldRequestID, "request_id is Lambda's")
	require.NotContains(t, raw, "447400123456")
}
