//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/stretchr/testify/require"

	"github.com/offload/offload/internal/localrt"
	"github.com/offload/offload/internal/loopback"
	"github.com/offload/offload/pkg/logging/loggingtest"
	"github.com/offload/offload/pkg/tracing/tracingtest"
)

// One request through the example service is one trace: the service's
// segment, its SQS send, the function's record segment (child of the send)
// and the function's DynamoDB write with its table — for the audit path and
// the SMS path. Read back from X-Ray (the emulator's locally) with
// BatchGetTraces.
func TestOneRequestIsOneTrace(t *testing.T) {
	t.Parallel()
	svc := startExampleService(t)
	xr := xray.NewFromConfig(stack.Config)

	t.Run("audit", func(t *testing.T) {
		t.Parallel()
		// durable: the SendMessage runs inside the request, so its subsegment
		// is in the request's trace (a buffered /audit sends it later).
		traceID, resp := svc.post(t, "/audit?durable=1", map[string]string{"auditText": "traced " + stack.Unique("trace")})
		spans := waitForTrace(t, xr, traceID, stack.Outputs.FunctionNames["audit-receiver"], resp["sqsMessageId"], func(write tracingtest.Document) bool {
			return write.AWS["operation"] == "PutItem" && write.AWS["table_name"] == stack.Outputs.AuditTableName
		})
		require.Equal(t, stack.Outputs.AuditQueueURL, spans.send.AWS["queue_url"])
		require.Equal(t, stack.Outputs.AuditTableName, spans.write.Annotations["table"])
		require.Equal(t, "success", spans.record.Annotations["outcome"])
	})

	t.Run("sms", func(t *testing.T) {
		t.Parallel()
		traceID, resp := svc.post(t, "/sms", map[string]string{"requestId": stack.Unique("trace-sms"), "to": "+14155550123", "body": "traced " + stack.Unique("trace")})
		spans := waitForTrace(t, xr, traceID, stack.Outputs.FunctionNames["sms-sender"], resp["sqsMessageId"], func(write tracingtest.Document) bool {
			return write.AWS["table_name"] == stack.Outputs.SMSIdempotencyTableName
		})
		require.Equal(t, stack.Outputs.SMSQueueURL, spans.send.AWS["queue_url"])
		require.Equal(t, "success", spans.record.Annotations["outcome"])
		for _, d := range spans.all {
			require.NotContains(t, fmt.Sprint(d.AWS, d.Annotations, d.Metadata), "4155550123", "no phone number in a trace")
		}
	})
}

// traceSpans are the spans of one request's trace the test asserts.
type traceSpans struct {
	producer, send, record, write tracingtest.Document
	all                           []tracingtest.Document
}

// waitForTrace polls BatchGetTraces until trace traceID holds the chain
// producer segment → SQS SendMessage → function's successful record segment
// (message sqsMessageID) → a DynamoDB call isWrite accepts, and returns it.
func waitForTrace(t *testing.T, xr *xray.Client, traceID, function, sqsMessageID string, isWrite func(tracingtest.Document) bool) traceSpans {
	t.Helper()
	require.NotEmpty(t, function)
	var got traceSpans
	var last string
	deadline := time.Now().Add(timeout(60*time.Second, 3*time.Minute))
	for {
		out, err := xr.BatchGetTraces(context.Background(), &xray.BatchGetTracesInput{TraceIds: []string{traceID}})
		require.NoError(t, err)
		spans, err := tracingtest.ParseTraces(out.Traces)
		require.NoError(t, err)
		got = findChain(spans, function, sqsMessageID, isWrite)
		if got.write.ID != "" {
			for _, d := range got.all {
				require.Equal(t, traceID, d.TraceID)
			}
			return got
		}
		names := make([]string, 0, len(got.all))
		for _, d := range got.all {
			names = append(names, d.Name+"("+d.ID+"←"+d.ParentID+")")
		}
		last = strings.Join(names, ", ")
		if time.Now().After(deadline) {
			t.Fatalf("trace %s never held producer → SQS send → %s record %s → DynamoDB write; last seen: %s; traces in X-Ray: %s",
				traceID, function, sqsMessageID, last, recentTraces(xr))
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// recentTraces describes the traces X-Ray (the emulator) holds from the last
// ten minutes, for failure messages.
func recentTraces(xr *xray.Client) string {
	ctx := context.Background()
	var ids []string
	in := &xray.GetTraceSummariesInput{StartTime: aws.Time(time.Now().Add(-10 * time.Minute)), EndTime: aws.Time(time.Now().Add(time.Minute))}
	sums, err := xr.GetTraceSummaries(ctx, in, func(o *xray.Options) { o.APIOptions = append(o.APIOptions, tracingtest.LenientTraceSummaries(nil)) })
	if err != nil {
		return "GetTraceSummaries: " + err.Error()
	}
	for _, s := range sums.TraceSummaries {
		ids = append(ids, aws.ToString(s.Id))
	}
	var b strings.Builder
	for i := 0; i < len(ids); i += 5 {
		out, err := xr.BatchGetTraces(ctx, &xray.BatchGetTracesInput{TraceIds: ids[i:min(i+5, len(ids))]})
		if err != nil {
			return "BatchGetTraces: " + err.Error()
		}
		for _, tr := range out.Traces {
			fmt.Fprintf(&b, "\n  %s:", aws.ToString(tr.Id))
			for _, s := range tr.Segments {
				fmt.Fprintf(&b, "\n    %s", aws.ToString(s.Document))
			}
		}
	}
	return fmt.Sprintf("%d traces%s", len(ids), b.String())
}

func findChain(all []tracingtest.Document, function, sqsMessageID string, isWrite func(tracingtest.Document) bool) traceSpans {
	got := traceSpans{all: all}
	for _, d := range all {
		if d.Name == "example-service" && d.ParentID == "" && d.Type == "" {
			got.producer = d
		}
	}
	for _, d := range all {
		if got.producer.ID != "" && d.Name == "SQS" && d.ParentID == got.producer.ID && d.AWS["operation"] == "SendMessage" {
			got.send = d
		}
	}
	for _, d := range all {
		// Each delivery of the message is a record span beneath the send;
		// on a busy machine the first may end "retry" (too little time
		// left to call the provider), so the chain is the one that
		// succeeded.
		if got.send.ID != "" && d.Name == function && d.ParentID == got.send.ID && d.Origin == "AWS::Lambda::Function" && d.Annotations["message_id"] == sqsMessageID &&
			d.Annotations["outcome"] == "success" {
			got.record = d
		}
	}
	for _, d := range all {
		if got.record.ID != "" && d.Name == "DynamoDB" && d.ParentID == got.record.ID && d.Namespace == "aws" && isWrite(d) {
			got.write = d
		}
	}
	return got
}

type exampleService struct{ url, apiKey string }

// post sends body as JSON with the service's API key and returns the trace
// id the service answered with and its JSON answer.
func (s exampleService) post(t *testing.T, path string, body any) (string, map[string]string) {
	t.Helper()
	b, err := json.Marshal(body)
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, s.url+path, bytes.NewReader(b))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-API-Key", s.apiKey)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]string
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	require.Equal(t, http.StatusAccepted, resp.StatusCode, "%s answered %v", path, out)
	h := resp.Header.Get("X-Amzn-Trace-Id")
	traceID, ok := strings.CutPrefix(h, "Root=")
	require.True(t, ok, "X-Amzn-Trace-Id %q", h)
	traceID, _, _ = strings.Cut(traceID, ";")
	require.NotEmpty(t, out["sqsMessageId"])
	return traceID, out
}

// startExampleService builds cmd/example-service and runs it against the
// stack's queues and table with its own X-Ray daemon, which forwards to the
// emulator (to X-Ray itself on the aws target), and its own API key in a
// Secrets Manager secret deleted afterwards.
func startExampleService(t *testing.T) exampleService {
	t.Helper()
	repo := repoDir(t)
	apiKey := stack.Unique("api-key-0123456789")
	secretName := stack.Unique("example-service-api-keys")
	sm := secretsmanager.NewFromConfig(stack.Config)
	_, err := sm.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{Name: aws.String(secretName),
		SecretString: aws.String(`{"keys":[{"id":"e2e","key":"` + apiKey + `"}]}`)})
	require.NoError(t, err)
	t.Cleanup(func() {
		_, _ = sm.DeleteSecret(context.Background(), &secretsmanager.DeleteSecretInput{SecretId: aws.String(secretName), ForceDeleteWithoutRecovery: aws.Bool(true)})
	})
	dir := t.TempDir()
	bin := filepath.Join(dir, "example-service")
	build := exec.Command("go", "build", "-o", bin, "./cmd/example-service")
	build.Dir = repo
	out, err := build.CombinedOutput()
	require.NoError(t, err, "build the example service: %s", out)

	daemonBin := filepath.Join(repo, "bin", "xray-daemon")
	if _, err := os.Stat(daemonBin); err != nil {
		daemonBin = filepath.Join(dir, "xray-daemon")
		build := exec.Command("go", "build", "-o", daemonBin, "github.com/aws/aws-xray-daemon/daemon")
		build.Dir = filepath.Join(repo, "tools")
		out, err := build.CombinedOutput()
		require.NoError(t, err, "build the X-Ray daemon: %s", out)
	}
	logs := &loggingtest.Buffer{}
	daemon, err := localrt.StartTraceDaemon(daemonBin, stack.Outputs.EmulatorEndpoint, stack.Config.Region, logs)
	require.NoError(t, err)
	t.Cleanup(daemon.Stop)

	addr, err := loopback.FreeAddr()
	require.NoError(t, err)
	cmd := exec.Command(bin, "--addr", addr, "--audit-queue-url", stack.Outputs.AuditQueueURL,
		"--sms-queue-url", stack.Outputs.SMSQueueURL, "--audit-table", stack.Outputs.AuditTableName, "--api-keys-secret", secretName)
	// Sample every request but the health checks: the default rules take
	// one request a second, and the health check would take that one.
	cmd.Env = append(os.Environ(), "AWS_XRAY_DAEMON_ADDRESS="+daemon.Addr, "OFFLOAD_XRAY_SAMPLING=local",
		`OFFLOAD_XRAY_SAMPLING_RULES={"version":2,"default":{"fixed_target":1,"rate":1},"rules":[`+
			`{"description":"health checks","host":"*","http_method":"GET","url_path":"/healthz","fixed_target":0,"rate":0}]}`)
	cmd.Stdout, cmd.Stderr = logs, logs
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("example service and X-Ray daemon log:\n%s", logs.String())
		}
	})
	url := "http://" + addr
	require.Eventually(t, func() bool { return loopback.Healthy(url) }, 20*time.Second, 100*time.Millisecond, "example service not healthy; log:\n%s", logs)
	return exampleService{url: url, apiKey: apiKey}
}

func repoDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(dir, "cmd", "example-service", "main.go"))
	require.NoError(t, err, "repository root")
	return dir
}
