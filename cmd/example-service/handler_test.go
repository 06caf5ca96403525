package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/offload/offload/pkg/audit"
	"github.com/offload/offload/pkg/producer"
)

type fakePublisher struct {
	mu   sync.Mutex
	msgs []producer.Message
	err  error
}

func (f *fakePublisher) Publish(_ context.Context, m producer.Message) (producer.Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return producer.Result{Err: f.err}, f.err
	}
	f.msgs = append(f.msgs, m)
	return producer.Result{MessageID: "sqs-1", IdempotencyKey: m.IdempotencyKey}, nil
}

type fakeStore struct {
	records []audit.Record
	outcome audit.Outcome
}

func (f *fakeStore) Put(_ context.Context, r audit.Record) (audit.Outcome, error) {
	f.records = append(f.records, r)
	return f.outcome, nil
}

func setup(t *testing.T) (*httptest.Server, *fakePublisher, *fakePublisher, *fakeStore) {
	t.Helper()
	auditQ, smsQ, store := &fakePublisher{}, &fakePublisher{}, &fakeStore{outcome: audit.Created}
	srv := httptest.NewServer(newTestService(t, store, auditQ, smsQ).routes())
	t.Cleanup(srv.Close)
	return srv, auditQ, smsQ, store
}

func post(t *testing.T, url, body string) (int, map[string]string) {
	t.Helper()
	return send(t, url, body, nil)
}

func TestPostAuditOffloadsTheArticlesAuditMessage(t *testing.T) {
	t.Parallel()
	srv, auditQ, _, store := setup(t)
	status, out := post(t, srv.URL+"/audit", `{"auditText":"user 42 logged in"}`)
	require.Equal(t, http.StatusAccepted, status)
	require.Equal(t, "queued", out["status"])
	require.Empty(t, out["sqsMessageId"], "buffered: SQS has not seen it yet")
	require.Len(t, auditQ.msgs, 1)
	require.Empty(t, store.records, "the async path does not touch the table")

	m := auditQ.msgs[0]
	require.Equal(t, out["messageId"], m.IdempotencyKey, "the record's id is the producer's idempotency key")
	got, err := audit.Decode([]byte(m.Body))
	require.NoError(t, err)
	require.Equal(t, out["messageId"], got.MessageID)
	require.Equal(t, "user 42 logged in", got.AuditText)
	require.True(t, got.AuditTime.Equal(time.Date(2026, 11, 26, 23, 12, 43, 123456700, time.UTC)))
}

func TestPostAuditKeepsTheClientsIdAndTime(t *testing.T) {
	t.Parallel()
	srv, auditQ, _, _ := setup(t)
	status, out := post(t, srv.URL+"/audit", `{"messageId":"m-1","auditText":"x","auditTime":"2026-01-02T03:04:05.1234567+01:00"}`)
	require.Equal(t, http.StatusAccepted, status)
	require.Equal(t, "m-1", out["messageId"])
	got, err := audit.Decode([]byte(auditQ.msgs[0].Body))
	require.NoError(t, err)
	require.True(t, got.AuditTime.Equal(time.Date(2026, 1, 2, 2, 4, 5, 123456700, time.UTC)))
}

func TestBadRequestsAreRejectedBeforeAnyEnqueue(t *testing.T) {
	t.Parallel()
	srv, auditQ, smsQ, _ := setup(t)
	for path, body := range map[string]string{
		"/audit":      `{"auditTime":"2026-01-02T03:04:05Z"}`,
		"/audit/sync": `not json`,
		"/sms":        `{"requestId":"r-3","to":"0123","body":"hi"}`,
	} {
		status, out := post(t, srv.URL+path, body)
		require.Equal(t, http.StatusBadRequest, status, path)
		require.NotEmpty(t, out["error"])
	}
	require.Empty(t, auditQ.msgs)
	require.Empty(t, smsQ.msgs)
}

func TestPostSMSOffloadsARequestWithAnIdempotencyKey(t *testing.T) {
	t.Parallel()
	srv, _, smsQ, _ := setup(t)
	status, out := post(t, srv.URL+"/sms", `{"requestId":"r-1","to":"07400 123456","region":"GB","body":"your code is 1234"}`)
	require.Equal(t, http.StatusAccepted, status)
	require.Len(t, smsQ.msgs, 1)
	require.Equal(t, out["requestId"], smsQ.msgs[0].IdempotencyKey)
	var req map[string]string
	require.NoError(t, json.Unmarshal([]byte(smsQ.msgs[0].Body), &req))
	require.Equal(t, map[string]string{"requestId": out["requestId"], "to": "+447400123456", "body": "your code is 1234"}, req,
		"queued in E.164, without the region")
}

func TestPostSMSChecksTheNumberingPlan(t *testing.T) {
	t.Parallel()
	srv, _, smsQ, _ := setup(t)
	for _, to := range []string{"+447700900123", "+44 20 7183 8750", "+999123456789"} { // drama range, a landline, no country
		status, out := post(t, srv.URL+"/sms", `{"requestId":"r-2","to":"`+to+`","body":"hi"}`)
		require.Equal(t, http.StatusBadRequest, status, to)
		require.Contains(t, out["error"], "invalid phone number", to)
		require.NotContains(t, out["error"], "7183 8750", "masked")
	}
	require.Empty(t, smsQ.msgs)
}

func TestPostAuditSyncWritesTheTable(t *testing.T) {
	t.Parallel()
	srv, auditQ, _, store := setup(t)
	status, out := post(t, srv.URL+"/audit/sync", `{"messageId":"m-2","auditText":"sync"}`)
	require.Equal(t, http.StatusCreated, status)
	require.Equal(t, "created", out["outcome"])
	require.Len(t, store.records, 1)
	require.Equal(t, "m-2", store.records[0].Key)
	require.Empty(t, auditQ.msgs)

	store.outcome = audit.Conflict
	status, _ = post(t, srv.URL+"/audit/sync", `{"messageId":"m-2","auditText":"other"}`)
	require.Equal(t, http.StatusConflict, status)
}

func TestAnEnqueueFailureIsA503(t *testing.T) {
	t.Parallel()
	srv, auditQ, _, _ := setup(t)
	auditQ.err = errors.New("throttled")
	for _, path := range []string{"/audit", "/audit?durable=1"} {
		status, out := post(t, srv.URL+path, `{"messageId":"m-3","auditText":"x"}`)
		require.Equal(t, http.StatusServiceUnavailable, status, path)
		require.Contains(t, out["error"], "m-3", path)
	}
}

func TestFlagsReportEveryMissingSetting(t *testing.T) {
	t.Setenv("AUDIT_QUEUE_URL", "")
	t.Setenv("SMS_QUEUE_URL", "")
	t.Setenv("AUDIT_TABLE_NAME", "")
	t.Setenv("EXAMPLE_SERVICE_API_KEYS_SECRET", "")
	_, err := parseFlags(nil)
	require.ErrorContains(t, err, "--api-keys-secret")
	require.ErrorContains(t, err, "--audit-queue-url")
	require.ErrorContains(t, err, "--sms-queue-url")
	require.ErrorContains(t, err, "--audit-table")
}
