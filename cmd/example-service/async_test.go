package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/offload/offload/pkg/audit"
)

// POST /audit answers 202 once the record is buffered: SQS has not been
// called when the client hears the answer; a flush sends it.
func TestPostAuditAnswersBeforeSQS(t *testing.T) {
	t.Parallel()
	svc, auditSQS, _, _ := newRealService(t, 262144)
	srv := httptest.NewServer(svc.routes())
	t.Cleanup(srv.Close)
	status, out := send(t, srv.URL+"/audit", `{"messageId":"m-async","auditText":"buffered"}`, nil)
	require.Equal(t, http.StatusAccepted, status, out)
	require.Equal(t, map[string]string{"messageId": "m-async", "status": "queued"}, out)
	require.Zero(t, auditSQS.calls(), "answered before any SQS call (flush interval 1h, one record)")

	require.NoError(t, svc.auditAsync.(interface{ Flush(context.Context) error }).Flush(context.Background()))
	bodies := auditSQS.bodies()
	require.Len(t, bodies, 1)
	m, err := audit.Decode([]byte(bodies[0]))
	require.NoError(t, err)
	require.Equal(t, "m-async", m.MessageID)
	require.Equal(t, "buffered", m.AuditText)
}

// ?durable=1 answers only after SQS accepted the message, with its id.
func TestPostAuditDurableWaitsForSQS(t *testing.T) {
	t.Parallel()
	svc, auditSQS, _, _ := newRealService(t, 262144)
	srv := httptest.NewServer(svc.routes())
	t.Cleanup(srv.Close)
	for i, path := range []string{"/audit?durable=1", "/audit?durable=true"} {
		id := fmt.Sprint("m-durable-", i)
		status, out := send(t, srv.URL+path, `{"messageId":"`+id+`","auditText":"durable"}`, nil)
		require.Equal(t, http.StatusAccepted, status, out)
		require.Equal(t, "enqueued", out["status"])
		require.Equal(t, fmt.Sprint("sqs-", i+1), out["sqsMessageId"])
		require.Equal(t, i+1, auditSQS.calls(), "SQS had it before the answer")
		require.Contains(t, auditSQS.bodies()[i], `"messageId":"`+id+`"`)
	}
}

// A full buffer refuses the record — 503 with Retry-After, nothing accepted —
// instead of holding the request (back-pressure reaches the client), and
// every record answered 202 before is still sent.
func TestAFullAuditBufferIs503WithRetryAfter(t *testing.T) {
	t.Parallel()
	svc, auditSQS, _, _ := newRealService(t, 262144)
	auditSQS.block, auditSQS.entered = make(chan struct{}), make(chan struct{}, 1)
	buf, err := newAuditBuffer(newTestPublisher(t, auditSQS), 10, time.Hour, svc.log)
	require.NoError(t, err)
	svc.auditAsync = buf
	srv := httptest.NewServer(svc.routes())
	t.Cleanup(srv.Close)

	post := func(i int) (int, map[string]string, http.Header) {
		return sendFull(t, srv.URL+"/audit", fmt.Sprintf(`{"messageId":"m-%02d","auditText":"x"}`, i), nil)
	}
	// Ten records make a batch, whose SendMessageBatch SQS holds; ten more
	// fill the buffer.
	for i := range 10 {
		status, out, _ := post(i)
		require.Equal(t, http.StatusAccepted, status, out)
	}
	select {
	case <-auditSQS.entered:
	case <-time.After(30 * time.Second):
		t.Fatal("the first batch was never sent")
	}
	for i := 10; i < 20; i++ {
		status, out, _ := post(i)
		require.Equal(t, http.StatusAccepted, status, out)
	}
	status, out, hdr := post(20)
	require.Equal(t, http.StatusServiceUnavailable, status, out)
	require.Equal(t, "1", hdr.Get("Retry-After"))
	require.Contains(t, out["error"], "m-20")
	require.Contains(t, out["error"], "retry")

	close(auditSQS.block)
	require.NoError(t, buf.Close(context.Background()))
	var ids []string
	for _, b := range auditSQS.bodies() {
		m, err := audit.Decode([]byte(b))
		require.NoError(t, err)
		ids = append(ids, m.MessageID)
	}
	want := make([]string, 20)
	for i := range want {
		want[i] = fmt.Sprintf("m-%02d", i)
	}
	require.Equal(t, want, ids, "every 202 sent, the 503 not")
}

// The real shutdown path: main's signal context, realMain with its real AWS
// configuration (SQS and Secrets Manager answered by fakeAWS through
// AWS_ENDPOINT_URL), and a SIGTERM to this process. Every record answered
// 202 is on the queue when realMain returns, though the flush interval
// (an hour) would not have sent the last ones.
func TestSIGTERMFlushesEveryAcceptedRecord(t *testing.T) {
	aws := newFakeAWS(t)
	t.Setenv("AWS_ENDPOINT_URL", aws.URL)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_XRAY_DAEMON_ADDRESS", "")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())

	ctx, stop := shutdownSignals()
	defer stop()
	done := make(chan error, 1)
	go func() {
		done <- realMain(ctx, []string{"--addr", addr, "--audit-queue-url", aws.URL + "/123456789012/audit",
			"--sms-queue-url", aws.URL + "/123456789012/sms", "--audit-table", "AuditMessages",
			"--api-keys-secret", "api-keys", "--rate", "10000", "--burst", "10000",
			"--audit-flush-interval", "1h"})
	}()
	base := "http://" + addr
	require.Eventually(t, func() bool {
		resp, err := http.Get(base + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 30*time.Second, 20*time.Millisecond, "service not up")

	const n = 25 // two batches of ten go out on their own; five wait for the flush
	for i := range n {
		status, out := send(t, base+"/audit", fmt.Sprintf(`{"messageId":"sig-%02d","auditText":"x"}`, i), nil)
		require.Equal(t, http.StatusAccepted, status, out)
	}
	require.Less(t, len(aws.sentIDs()), n, "some records are still only in the buffer")

	require.NoError(t, syscall.Kill(syscall.Getpid(), syscall.SIGTERM))
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(60 * time.Second):
		t.Fatal("realMain did not return after SIGTERM")
	}
	got := aws.sentIDs()
	want := make([]string, n)
	for i := range want {
		want[i] = fmt.Sprintf("sig-%02d", i)
	}
	require.ElementsMatch(t, want, got, "every record answered 202 was sent, once")
}

// fakeAWS answers the AWS JSON protocol calls the service makes at start and
// on the audit path: Secrets Manager's GetSecretValue (the API keys) and
// SQS's SendMessageBatch.
type fakeAWS struct {
	*httptest.Server
	mu  sync.Mutex
	ids []string
}

func newFakeAWS(t *testing.T) *fakeAWS {
	f := &fakeAWS{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		switch target := r.Header.Get("X-Amz-Target"); target {
		case "secretsmanager.GetSecretValue":
			_ = json.NewEncoder(w).Encode(map[string]string{"Name": "api-keys",
				"SecretString": `{"keys":[{"id":"k1","key":"` + testKey + `"}]}`})
		case "AmazonSQS.SendMessageBatch":
			var in struct {
				Entries []struct{ Id, MessageBody string }
			}
			if err := json.Unmarshal(body, &in); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			var ok []map[string]string
			f.mu.Lock()
			for _, e := range in.Entries {
				m, err := audit.Decode([]byte(e.MessageBody))
				if err == nil {
					f.ids = append(f.ids, m.MessageID)
				}
				ok = append(ok, map[string]string{"Id": e.Id, "MessageId": fmt.Sprint("sqs-", len(f.ids))})
			}
			f.mu.Unlock()
			_ = json.NewEncoder(w).Encode(map[string]any{"Successful": ok, "Failed": []any{}})
		default:
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"__type":"UnknownOperation","message":"` + strings.ReplaceAll(target, `"`, "") + `"}`))
		}
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeAWS) sentIDs() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.ids...)
}
