package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/offload/offload/pkg/audit"
	"github.com/offload/offload/pkg/logging"
)

// The service's lines use the shared vocabulary (docs/development.md, "Log
// fields"): message_id is the SQS id, domain ids have their own names, and
// numbers are masked by pkg/logging's policy.
func TestLogFields(t *testing.T) {
	t.Parallel()
	svc := newTestService(t, &fakeStore{outcome: audit.Created}, &fakePublisher{}, &fakePublisher{})
	var out bytes.Buffer // the handler runs in this goroutine: no lock
	svc.log = slog.New(logging.NewSlogHandler(&out, nil))
	routes := svc.routes()
	// /audit?durable=1: the audit line that names the SQS id (a buffered
	// /audit logs at Debug, before SQS has it).
	for path, body := range map[string]string{"/audit?durable=1": `{"messageId":"m-1","auditText":"x"}`, "/sms": `{"requestId":"r-1","to":"+447400123456","body":"hi"}`} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		req.Header.Set(headerAPIKey, testKey)
		routes.ServeHTTP(rec, req)
		require.Equal(t, http.StatusAccepted, rec.Code, path)
	}

	lines := map[string]map[string]any{}
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &m), l)
		lines[m["message"].(string)] = m
	}
	a, s := lines["audit offloaded"], lines["sms offloaded"]
	require.NotNil(t, a, out.String())
	require.NotNil(t, s, out.String())
	require.Equal(t, "m-1", a[logging.FieldAuditID])
	require.Equal(t, "sqs-1", a[logging.FieldMessageID])
	require.Equal(t, "k1", a[logging.FieldClientKeyID])
	require.Equal(t, "r-1", s[logging.FieldSMSRequestID])
	require.Equal(t, "+44********56", s["to"])
	require.NotContains(t, s, logging.FieldRequestID, "request_id is Lambda's")
	require.NotContains(t, out.String(), "447400123456")
}
