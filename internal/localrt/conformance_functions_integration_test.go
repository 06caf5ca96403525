//go:build integration

package localrt

// Conformance of the offload functions themselves under concurrent invokes
// (issue 14, item 8): each real bootstrap (make build-local, dist/local) runs
// as Lambda Managed Instances run it — one environment serving several
// invokes at once, AWS_LAMBDA_MAX_CONCURRENCY set, no _X_AMZN_TRACE_ID — and
// no log line, X-Ray segment, AWS request or stored record of one invoke may
// carry another invoke's request id, trace id or data.

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/stretchr/testify/require"

	"github.com/offload/offload/internal/testenv"
	"github.com/offload/offload/pkg/dlq/dlqtest"
	"github.com/offload/offload/pkg/logging/loggingtest"
	"github.com/offload/offload/pkg/tracing/tracingtest"
)

// concurrentInvokes is how many invokes one environment serves at once.
const concurrentInvokes = 4

// barrierWait bounds how long the barrier holds a request for the other
// invokes to arrive: far beyond a cold start on a busy machine, far below
// the function timeout.
const barrierWait = 90 * time.Second

// Each offload function, run with AWS_LAMBDA_MAX_CONCURRENCY in one
// environment, keeps every invoke's request id, trace id and data to that
// invoke: in its log lines, its X-Ray segments, the trace headers of its AWS
// calls and the records it stores. The invokes provably overlap: each one's
// first DynamoDB write is held at a barrier in front of the emulator until
// every invoke has one held, so all of them are inside the handler at once.
func TestConformanceOffloadFunctionsServeConcurrentInvokesWithoutMixingIDs(t *testing.T) {
	t.Parallel()
	t.Run("audit-receiver", func(t *testing.T) {
		t.Parallel()
		runConcurrentCase(t, auditConcurrentCase())
	})
	t.Run("sms-sender", func(t *testing.T) {
		t.Parallel()
		runConcurrentCase(t, smsConcurrentCase())
	})
	t.Run("dlq-alarm-handler", func(t *testing.T) {
		t.Parallel()
		runConcurrentCase(t, dlqConcurrentCase())
	})
}

// ccInvoke is one of the concurrent invokes and everything that belongs to it.
type ccInvoke struct {
	i int
	// trace is the invoke's Lambda-Runtime-Trace-Id.
	trace string
	// records are its SQS records (SQS functions).
	records []ccRecord
	// tokens are the invoke's own data: message ids, keys, names.
	tokens  []string
	payload []byte
	res     Result
}

// ccRecord is one SQS record of an invoke. producer is its AWSTraceHeader
// ("" for a record without one: it is traced in the invoke's trace).
type ccRecord struct {
	messageID, key, producer string
	// unrecorded: the store fails to record this request's completion
	// (sms-sender's sent-but-unrecorded path).
	unrecorded bool
}

// traceOf is the trace header a record's spans and lines belong to.
func (r ccRecord) traceOf(inv *ccInvoke) string {
	if r.producer != "" {
		return r.producer
	}
	return inv.trace
}

// ids are every string that names the invoke: its request id, the roots and
// parents of its trace headers, and its data tokens.
func (inv *ccInvoke) ids() []string {
	ids := append([]string{inv.res.RequestID}, inv.tokens...)
	for _, h := range append([]string{inv.trace}, inv.producers()...) {
		ids = append(ids, headerPart(h, "Root"), headerPart(h, "Parent"))
	}
	return ids
}

func (inv *ccInvoke) producers() []string {
	var hs []string
	for _, r := range inv.records {
		if r.producer != "" {
			hs = append(hs, r.producer)
		}
	}
	return hs
}

// headerPart returns the value of key (Root, Parent, Sampled) in an X-Ray
// trace header.
func headerPart(h, key string) string {
	for part := range strings.SplitSeq(h, ";") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(part), key+"="); ok {
			return v
		}
	}
	return ""
}

// ccEnv is what a case's setup gives the harness.
type ccEnv struct {
	// env is the function's deployed environment.
	env map[string]string
	// barrierTable is the table whose first PutItem per invoke is held.
	barrierTable string
}

// ccCase is one function under concurrent invokes.
type ccCase struct {
	folder string
	// setup creates the function's resources (h.name is the unique prefix).
	setup func(h *ccHarness) ccEnv
	// prepare fills in invoke inv's records, tokens and payload.
	prepare func(h *ccHarness, inv *ccInvoke)
	// done reports whether every log line and segment the case expects has
	// arrived (they arrive asynchronously) and, when not, what is missing.
	done func(h *ccHarness, invs []*ccInvoke) (bool, string)
	// check asserts the case's stored records and side effects.
	check func(t *testing.T, h *ccHarness, invs []*ccInvoke)
}

// ccHarness runs one case: its resources, the barrier proxy in front of the
// emulator, the X-Ray capture and the runtime.
type ccHarness struct {
	t       *testing.T
	cfg     aws.Config
	name    string
	fnName  string
	ddb     *dynamodb.Client
	sqs     *sqs.Client
	sns     *sns.Client
	logs    *loggingtest.Buffer
	rtLogs  *loggingtest.Buffer
	capture *segmentCapture
	proxy   *barrierProxy
	rt      *Runtime
}

func runConcurrentCase(t *testing.T, c ccCase) {
	bin := filepath.Join(repoRootDir(t), "dist", "local")
	_, err := os.Stat(filepath.Join(bin, c.folder, "bootstrap"))
	require.NoError(t, err, "the real bootstraps are needed: run `make build-local` first")
	cfg := testenv.AWSConfig(t)
	h := &ccHarness{t: t, cfg: cfg, name: testenv.UniqueName("cc" + c.folder[:1]), ddb: dynamodb.NewFromConfig(cfg),
		sqs: sqs.NewFromConfig(cfg), sns: sns.NewFromConfig(cfg), logs: &loggingtest.Buffer{}, rtLogs: &loggingtest.Buffer{}}
	h.fnName = h.name + "-" + c.folder
	ce := c.setup(h)

	invs := make([]*ccInvoke, concurrentInvokes)
	for i := range invs {
		invs[i] = &ccInvoke{i: i, trace: newTraceHeader()}
		c.prepare(h, invs[i])
	}
	h.capture = startSegmentCapture(t)
	h.proxy = startBarrierProxy(t, testenv.Endpoint(t), concurrentInvokes, func(op string, body []byte) (int, bool) {
		if op != "PutItem" || !bytes.Contains(body, []byte(`"TableName":"`+ce.barrierTable+`"`)) {
			return 0, false
		}
		return soleOwner(invs, false, string(body))
	})

	env := map[string]string{"OFFLOAD_ENV": "local", "LOG_LEVEL": "info"}
	for k, v := range ce.env {
		env[k] = v
	}
	deployFunction(t, cfg, functionSpec{name: h.fnName, folder: c.folder, timeout: int32(2*barrierWait/time.Second) + 60, memoryMB: 256, env: env})
	h.startRuntime(Config{
		Endpoint: h.proxy.URL, BinDir: bin, EnvironmentConcurrency: concurrentInvokes,
		TraceDaemonAddress: h.capture.addr,
	})

	// All at once; the barrier makes them overlap.
	var wg sync.WaitGroup
	for _, inv := range invs {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 2*barrierWait+2*time.Minute)
			defer cancel()
			res, err := h.rt.Invoke(ctx, h.fnName, inv.payload, inv.trace)
			if err != nil {
				res.Err = &FunctionError{Type: "invoke", Message: err.Error()}
			}
			inv.res = res
		})
	}
	wg.Wait()
	for _, inv := range invs {
		require.Nil(t, inv.res.Err, "invoke %d", inv.i)
		require.NotEmpty(t, inv.res.RequestID)
	}

	// The evidence of the overlap: every invoke had a request held at the
	// barrier at the same time, all in one environment.
	tripped, held := h.proxy.state()
	require.True(t, tripped, "the %d invokes never were in flight at once: the barrier held requests of invokes %v only", concurrentInvokes, held)
	h.rt.mu.Lock()
	pl := h.rt.pools[h.fnName]
	h.rt.mu.Unlock()
	pl.mu.Lock()
	envs, peak := len(pl.envs), pl.peak
	pl.mu.Unlock()
	require.Equal(t, 1, envs, "one environment served every invoke")
	require.Equal(t, concurrentInvokes, peak, "invokes in flight at once")

	var why string
	if !pollUntil(2*time.Minute, func() bool {
		var ok bool
		ok, why = c.done(h, invs)
		return ok
	}) {
		t.Fatalf("expected log lines or segments never arrived: %s", why)
	}
	h.checkLogs(invs, c.folder)
	h.checkSegments(invs)
	h.checkRequests(invs)
	c.check(t, h, invs)
}

// pollUntil calls cond every 100 ms until it holds or within has passed.
func pollUntil(within time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(within)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// owners returns the invokes whose ids occur in s. With requestIDs false,
// request ids are not looked for (they are not known before the invokes end).
func owners(invs []*ccInvoke, requestIDs bool, s string) []int {
	var out []int
	for _, inv := range invs {
		for _, id := range inv.ids() {
			if id == "" || (!requestIDs && id == inv.res.RequestID) {
				continue
			}
			if strings.Contains(s, id) {
				out = append(out, inv.i)
				break
			}
		}
	}
	return out
}

func soleOwner(invs []*ccInvoke, requestIDs bool, s string) (int, bool) {
	o := owners(invs, requestIDs, s)
	if len(o) != 1 {
		return 0, false
	}
	return o[0], true
}

// requireOneOwner fails when s names more than one invoke.
func requireOneOwner(t *testing.T, invs []*ccInvoke, what, s string) []int {
	t.Helper()
	o := owners(invs, true, s)
	require.LessOrEqual(t, len(o), 1, "%s carries the ids of invokes %v: %s", what, o, s)
	return o
}

// functionLines returns the function's own output (not START/END/REPORT),
// decoded where it is JSON (nil otherwise), with the raw line.
func (h *ccHarness) functionLines(folder string) []ccLine {
	var out []ccLine
	for _, line := range strings.Split(h.logs.String(), "\n") {
		text, ok := strings.CutPrefix(line, "["+folder+"] ")
		if !ok {
			continue
		}
		l := ccLine{raw: text}
		if strings.HasPrefix(text, "{") {
			_ = json.Unmarshal([]byte(text), &l.fields)
		}
		out = append(out, l)
	}
	return out
}

type ccLine struct {
	raw    string
	fields map[string]any
}

func (l ccLine) str(k string) string { s, _ := l.fields[k].(string); return s }

// checkLogs: each line names at most one invoke; a line with a request id
// names a known invoke and only that invoke's trace ids; each invoke has
// its START, END and REPORT.
func (h *ccHarness) checkLogs(invs []*ccInvoke, folder string) {
	t := h.t
	byRequest := map[string]*ccInvoke{}
	for _, inv := range invs {
		byRequest[inv.res.RequestID] = inv
	}
	for _, l := range h.functionLines(folder) {
		if l.str("message") == folder+" ready" {
			// The init line (written before the first /next, though the
			// runtime may print START lines first): it lists the settings,
			// which name every invoke's queues here (one function serves
			// them all). No invoke's context exists yet to mix up.
			require.Empty(t, l.str("request_id"), "an init line with a request id: %s", l.raw)
			continue
		}
		o := requireOneOwner(t, invs, "log line", l.raw)
		for _, marker := range []string{"START RequestId: ", "END RequestId: ", "REPORT RequestId: "} {
			if rest, ok := strings.CutPrefix(l.raw, marker); ok {
				id, _, _ := strings.Cut(rest, " ")
				id, _, _ = strings.Cut(id, "\t")
				require.Contains(t, byRequest, id, "runtime line for an unknown request: %s", l.raw)
			}
		}
		rid := l.str("request_id")
		if rid == "" {
			continue
		}
		inv, ok := byRequest[rid]
		require.True(t, ok, "log line with a request id no invoke had: %s", l.raw)
		require.Equal(t, []int{inv.i}, o, "log line of request %s names another invoke: %s", rid, l.raw)
		if tid := l.str("trace_id"); tid != "" {
			allowed := []string{headerPart(inv.trace, "Root")}
			for _, p := range inv.producers() {
				allowed = append(allowed, headerPart(p, "Root"))
			}
			require.Contains(t, allowed, tid, "log line of request %s has a trace id not of its invoke: %s", rid, l.raw)
		}
	}
	all := h.logs.String()
	for _, inv := range invs {
		for _, marker := range []string{"START RequestId: ", "END RequestId: ", "REPORT RequestId: "} {
			require.Equal(t, 1, strings.Count(all, marker+inv.res.RequestID), "%s%s", marker, inv.res.RequestID)
		}
	}
	require.Equal(t, 1, strings.Count(all, `"message":"`+folder+` ready"`), "one cold start")
}

// checkSegments: every document the functions sent is in the trace of a
// known invoke and names no other invoke.
func (h *ccHarness) checkSegments(invs []*ccInvoke) {
	t := h.t
	raw := h.capture.raw()
	require.NotEmpty(t, raw, "no segment was sent")
	for _, doc := range raw {
		o := requireOneOwner(t, invs, "segment", string(doc))
		require.Len(t, o, 1, "a segment of no invoke's trace: %s", doc)
		d, err := tracingtest.Parse(doc)
		require.NoError(t, err)
		inv := invs[o[0]]
		roots := []string{headerPart(inv.trace, "Root")}
		for _, p := range inv.producers() {
			roots = append(roots, headerPart(p, "Root"))
		}
		require.Contains(t, roots, d.TraceID, "segment %s of invoke %d is in another trace: %s", d.ID, inv.i, doc)
	}
}

// checkRequests: every AWS call the function made names at most one invoke,
// and a call that carries an invoke's data carries that invoke's trace
// header (a record's own, or the invocation's).
func (h *ccHarness) checkRequests(invs []*ccInvoke) {
	t := h.t
	for _, r := range h.proxy.requests() {
		what := fmt.Sprintf("%s request (X-Amzn-Trace-Id %q)", r.op, r.traceHeader)
		o := requireOneOwner(t, invs, what, r.traceHeader+" "+string(r.body))
		if len(o) == 0 {
			continue
		}
		require.NotEmpty(t, r.traceHeader, "%s carries invoke %d's data but no trace header: %s", r.op, o[0], r.body)
	}
}

// segments returns the captured documents, flattened.
func (h *ccHarness) segments() []tracingtest.Document {
	var docs []tracingtest.Document
	for _, raw := range h.capture.raw() {
		if d, err := tracingtest.Parse(raw); err == nil {
			docs = append(docs, d)
		}
	}
	return tracingtest.Flatten(docs...)
}

// recordSpansDone reports whether every record of every invoke has its span
// — in its producer's trace, else the invocation's, child of that header's
// Parent — with a child named after each of children.
func (h *ccHarness) recordSpansDone(invs []*ccInvoke, children ...string) (bool, string) {
	all := h.segments()
	for _, inv := range invs {
		for _, r := range inv.records {
			want := r.traceOf(inv)
			var span *tracingtest.Document
			for k := range all {
				if all[k].Annotations["message_id"] == r.messageID {
					span = &all[k]
				}
			}
			if span == nil {
				return false, fmt.Sprintf("no span for record %s of invoke %d", r.messageID, inv.i)
			}
			parent := span.ParentID
			if r.producer == "" {
				// A record without a producer's trace is traced beneath
				// the invocation's batch span (pkg/batch, "Tracing"),
				// itself the child of the invoke's header.
				i := slices.IndexFunc(all, func(d tracingtest.Document) bool { return d.ID == span.ParentID })
				if i < 0 {
					return false, fmt.Sprintf("record %s of invoke %d: its parent %s is not captured yet", r.messageID, inv.i, span.ParentID)
				}
				if all[i].Name != "Process" || all[i].TraceID != span.TraceID {
					h.t.Fatalf("record %s of invoke %d: span under %q in trace %s, want the invocation's Process span", r.messageID, inv.i, all[i].Name, all[i].TraceID)
				}
				parent = all[i].ParentID
			}
			if span.TraceID != headerPart(want, "Root") || parent != headerPart(want, "Parent") {
				h.t.Fatalf("record %s of invoke %d: span in trace %s under %s, want %s", r.messageID, inv.i, span.TraceID, parent, want)
			}
			for _, name := range children {
				if !slices.ContainsFunc(all, func(d tracingtest.Document) bool { return d.ParentID == span.ID && d.Name == name }) {
					return false, fmt.Sprintf("record %s of invoke %d: no %s call beneath its span", r.messageID, inv.i, name)
				}
			}
		}
	}
	return true, ""
}

// recordLinesDone reports whether every record has its "record success" line
// with its invoke's request id and its own trace id.
func (h *ccHarness) recordLinesDone(folder string, invs []*ccInvoke) (bool, string) {
	lines := h.functionLines(folder)
	for _, inv := range invs {
		for _, r := range inv.records {
			found := false
			for _, l := range lines {
				if l.str("message_id") != r.messageID || l.str("outcome") != "success" {
					continue
				}
				require.Equal(h.t, inv.res.RequestID, l.str("request_id"), l.raw)
				require.Equal(h.t, headerPart(r.traceOf(inv), "Root"), l.str("trace_id"), l.raw)
				found = true
			}
			if !found {
				return false, fmt.Sprintf("no success line for record %s of invoke %d", r.messageID, inv.i)
			}
		}
	}
	return true, ""
}

// ccSQSEvent builds invoke inv's SQS event from its records: the first without
// AWSTraceHeader, the others with their producer's.
func ccSQSEvent(t *testing.T, queueARN string, inv *ccInvoke, bodies []string) []byte {
	t.Helper()
	var ev events.SQSEvent
	for k, r := range inv.records {
		attrs := map[string]string{"ApproximateReceiveCount": "1", "SentTimestamp": strconv.FormatInt(time.Now().UnixMilli(), 10),
			"ApproximateFirstReceiveTimestamp": strconv.FormatInt(time.Now().UnixMilli(), 10), "SenderId": "AIDATEST"}
		if r.producer != "" {
			attrs["AWSTraceHeader"] = r.producer
		}
		ev.Records = append(ev.Records, events.SQSMessage{
			MessageId: r.messageID, ReceiptHandle: "handle-" + r.messageID, Body: bodies[k], Attributes: attrs,
			Md5OfBody: fmt.Sprintf("%x", md5.Sum([]byte(bodies[k]))), EventSource: "aws:sqs", EventSourceARN: queueARN, AWSRegion: "us-east-1",
		})
	}
	b, err := json.Marshal(ev)
	require.NoError(t, err)
	return b
}

// newRecords gives inv two records: one traced in the invocation's trace,
// one in a producer's trace of its own.
func newRecords(h *ccHarness, inv *ccInvoke) {
	for k := range 2 {
		r := ccRecord{messageID: fmt.Sprintf("%s-m%02d-%d", h.name, inv.i, k), key: fmt.Sprintf("%s-k%02d-%d", h.name, inv.i, k)}
		if k == 1 {
			r.producer = newTraceHeader()
		}
		inv.records = append(inv.records, r)
		inv.tokens = append(inv.tokens, r.messageID, r.key)
	}
}

// items returns every item of table, each as its JSON text and its string
// attributes.
func (h *ccHarness) items(table string) []map[string]string {
	out, err := h.ddb.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
	require.NoError(h.t, err)
	var items []map[string]string
	for _, it := range out.Items {
		m := map[string]string{}
		for k, v := range it {
			switch x := v.(type) {
			case *ddbtypes.AttributeValueMemberS:
				m[k] = x.Value
			case *ddbtypes.AttributeValueMemberN:
				m[k] = x.Value
			case *ddbtypes.AttributeValueMemberB:
				m[k] = string(x.Value)
			default:
				m[k] = fmt.Sprint(v)
			}
		}
		items = append(items, m)
	}
	return items
}

func itemText(m map[string]string) string {
	b, _ := json.Marshal(m)
	return string(b)
}

func auditConcurrentCase() ccCase {
	var table, queueARN string
	return ccCase{
		folder: "audit-receiver",
		setup: func(h *ccHarness) ccEnv {
			table = h.name + "-audit"
			testenv.CreateKeyTable(h.t, h.ddb, table, "messageId", "auditTime")
			dlqURL, _ := createQueue(h.t, h.sqs, h.name+"-dlq", nil)
			_, queueARN = createQueue(h.t, h.sqs, h.name+"-audit", nil)
			return ccEnv{env: map[string]string{"AUDIT_TABLE_NAME": table, "DLQ_URL": dlqURL}, barrierTable: table}
		},
		prepare: func(h *ccHarness, inv *ccInvoke) {
			newRecords(h, inv)
			var bodies []string
			for _, r := range inv.records {
				bodies = append(bodies, fmt.Sprintf(`{"messageId":%q,"auditText":"concurrent invoke %d","auditTime":"2026-12-02T01:00:00Z"}`, r.key, inv.i))
			}
			inv.payload = ccSQSEvent(h.t, queueARN, inv, bodies)
		},
		done: func(h *ccHarness, invs []*ccInvoke) (bool, string) {
			if ok, why := h.recordLinesDone("audit-receiver", invs); !ok {
				return false, why
			}
			return h.recordSpansDone(invs, "DynamoDB")
		},
		check: func(t *testing.T, h *ccHarness, invs []*ccInvoke) {
			items := h.items(table)
			require.Len(t, items, 2*concurrentInvokes)
			for _, it := range items {
				o := requireOneOwner(t, invs, "audit item", itemText(it))
				require.Len(t, o, 1, itemText(it))
				inv := invs[o[0]]
				k := slices.IndexFunc(inv.records, func(r ccRecord) bool { return r.key == it["messageId"] })
				require.GreaterOrEqual(t, k, 0, itemText(it))
				require.Equal(t, inv.records[k].messageID, it["sqsMessageId"], "the item holds its own record's SQS message id")
			}
		},
	}
}

func smsConcurrentCase() ccCase {
	var table, queueARN string
	return ccCase{
		folder: "sms-sender",
		setup: func(h *ccHarness) ccEnv {
			table = h.name + "-idem"
			testenv.CreateKeyTable(h.t, h.ddb, table, "id")
			dlqURL, _ := createQueue(h.t, h.sqs, h.name+"-dlq", nil)
			_, queueARN = createQueue(h.t, h.sqs, h.name+"-sms", nil)
			return ccEnv{env: map[string]string{"IDEMPOTENCY_TABLE_NAME": table, "DLQ_URL": dlqURL, "SMS_PROVIDER": "sns"}, barrierTable: table}
		},
		prepare: func(h *ccHarness, inv *ccInvoke) {
			newRecords(h, inv)
			var bodies []string
			for k := range inv.records {
				r := &inv.records[k]
				bodies = append(bodies, fmt.Sprintf(`{"requestId":%q,"to":"+1415555010%d","body":"concurrent %s"}`, r.key, inv.i, r.key))
				// One request per invoke is sent but its completion cannot
				// be recorded: the line that reports it must be its invoke's.
				if k == inv.i%2 {
					r.unrecorded = true
					f := testenv.MustInjectFault(h.t, testenv.Fault{Service: "dynamodb", Operation: "UpdateItem", Match: r.key, Count: -1,
						// The write that marks it completed, not the Start before the send.
						Also:  []string{`{"S":"completed"}`},
						Error: &testenv.FaultError{Status: 400, Code: "ValidationException", Message: "injected: completion not recorded"}})
					h.t.Cleanup(func() { _ = testenv.RemoveFault(testenv.Endpoint(h.t), f.ID) })
				}
			}
			inv.payload = ccSQSEvent(h.t, queueARN, inv, bodies)
		},
		done: func(h *ccHarness, invs []*ccInvoke) (bool, string) {
			if ok, why := h.recordLinesDone("sms-sender", invs); !ok {
				return false, why
			}
			lines := h.functionLines("sms-sender")
			for _, inv := range invs {
				for _, r := range inv.records {
					if !slices.ContainsFunc(lines, func(l ccLine) bool {
						return l.str("sms_request_id") == r.key && l.raw != "" && strings.Contains(l.raw, `"sms sent"`) && l.str("request_id") == inv.res.RequestID
					}) {
						return false, fmt.Sprintf("no sms sent line for %s with request id %s", r.key, inv.res.RequestID)
					}
					if !r.unrecorded {
						continue
					}
					// Found by its text and the request it names; its
					// fields are the invoke's own.
					k := slices.IndexFunc(lines, func(l ccLine) bool {
						return strings.Contains(l.raw, "completion could not be recorded") && strings.Contains(l.raw, r.key)
					})
					if k < 0 {
						return false, fmt.Sprintf("no sent-but-unrecorded line for %s", r.key)
					}
					l := lines[k]
					require.Equal(h.t, inv.res.RequestID, l.str("request_id"), "the sent-but-unrecorded line carries its invoke's request id: %s", l.raw)
					require.Equal(h.t, headerPart(r.traceOf(inv), "Root"), l.str("trace_id"), "and its record's trace: %s", l.raw)
					require.Equal(h.t, r.messageID, l.str("message_id"), l.raw)
					require.Equal(h.t, r.key, l.str("sms_request_id"), l.raw)
				}
			}
			return h.recordSpansDone(invs, "DynamoDB", "SNS")
		},
		check: func(t *testing.T, h *ccHarness, invs []*ccInvoke) {
			// Which SNS message carried which request: the text names it.
			sent := map[string]string{} // SNS message id → request key
			for _, m := range testenv.SentSMS(t) {
				if key, ok := strings.CutPrefix(m.Message, "concurrent "); ok && strings.HasPrefix(key, h.name) {
					sent[m.MessageID] = key
				}
			}
			require.Len(t, sent, 2*concurrentInvokes, "one text per request")
			items := h.items(table)
			require.Len(t, items, 2*concurrentInvokes)
			for _, it := range items {
				o := requireOneOwner(t, invs, "idempotency record", itemText(it))
				require.Len(t, o, 1, itemText(it))
				k := slices.IndexFunc(invs[o[0]].records, func(r ccRecord) bool { return r.key == it["id"] })
				require.GreaterOrEqual(t, k, 0, itemText(it))
				if invs[o[0]].records[k].unrecorded {
					require.Equal(t, "in_progress", it["status"], "completion not recorded: %s", itemText(it))
					require.True(t, slices.Contains(slices.Collect(maps.Values(sent)), it["id"]), "but its text was sent: %s", it["id"])
					continue
				}
				require.Equal(t, "completed", it["status"], itemText(it))
				var rec struct{ Provider, ID string }
				require.NoError(t, json.Unmarshal([]byte(it["result"]), &rec), itemText(it))
				require.Equal(t, it["id"], sent[rec.ID], "the record of %s holds the receipt of its own text: %s", it["id"], itemText(it))
			}
		},
	}
}

func dlqConcurrentCase() ccCase {
	var table, notifyURL string
	dlqs := map[int]string{} // invoke → its dead-letter queue's name
	return ccCase{
		folder: "dlq-alarm-handler",
		setup: func(h *ccHarness) ccEnv {
			table = h.name + "-idem"
			testenv.CreateKeyTable(h.t, h.ddb, table, "id")
			topic, err := h.sns.CreateTopic(context.Background(), &sns.CreateTopicInput{Name: aws.String(h.name + "-notify")})
			require.NoError(h.t, err)
			h.t.Cleanup(func() {
				_, _ = h.sns.DeleteTopic(context.Background(), &sns.DeleteTopicInput{TopicArn: topic.TopicArn})
			})
			var notifyARN string
			notifyURL, notifyARN = createQueue(h.t, h.sqs, h.name+"-notified", nil)
			_, err = h.sns.Subscribe(context.Background(), &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"),
				Endpoint: aws.String(notifyARN), Attributes: map[string]string{"RawMessageDelivery": "true"}})
			require.NoError(h.t, err)
			var names []string
			for i := range concurrentInvokes {
				dlqs[i] = fmt.Sprintf("%s-q%02d-dlq", h.name, i)
				names = append(names, dlqs[i])
			}
			return ccEnv{env: map[string]string{"IDEMPOTENCY_TABLE_NAME": table, "NOTIFICATIONS_TOPIC_ARN": aws.ToString(topic.TopicArn),
				"DEAD_LETTER_QUEUES": strings.Join(names, ",")}, barrierTable: table}
		},
		prepare: func(h *ccHarness, inv *ccInvoke) {
			// Its own DLQ holding one dead letter, its own alarm on it.
			url, _ := createQueue(h.t, h.sqs, dlqs[inv.i], nil)
			out, err := h.sqs.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(`{"dead":true}`)})
			require.NoError(h.t, err)
			alarm := fmt.Sprintf("%s-a%02d-dlq-not-empty", h.name, inv.i)
			snsID := fmt.Sprintf("%s-n%02d", h.name, inv.i)
			inv.tokens = append(inv.tokens, dlqs[inv.i], alarm, snsID, aws.ToString(out.MessageId))
			inv.payload = alarmEvent(h.t, alarm, dlqs[inv.i], snsID)
		},
		done: func(h *ccHarness, invs []*ccInvoke) (bool, string) {
			lines := h.functionLines("dlq-alarm-handler")
			all := h.segments()
			for _, inv := range invs {
				root, parent := headerPart(inv.trace, "Root"), headerPart(inv.trace, "Parent")
				if !slices.ContainsFunc(lines, func(l ccLine) bool {
					return strings.Contains(l.raw, `"alarm state change reported"`) && l.str("request_id") == inv.res.RequestID &&
						l.str("trace_id") == root && l.str("queue") == dlqs[inv.i] && l.fields["dead_letters"] != nil && l.fields["dead_letters"] != float64(0)
				}) {
					return false, fmt.Sprintf("no report line of invoke %d", inv.i)
				}
				for _, name := range []string{"DynamoDB", "SQS", "SNS"} {
					if !slices.ContainsFunc(all, func(d tracingtest.Document) bool {
						return d.Name == name && d.TraceID == root && d.ParentID == parent
					}) {
						return false, fmt.Sprintf("no %s call in invoke %d's trace", name, inv.i)
					}
				}
			}
			// The sample of a DLQ is in the trace of the invoke that
			// reported it.
			for _, d := range all {
				if d.Name != "SQS" {
					continue
				}
				inv, ok := soleOwner(invs, true, fmt.Sprint(d.AWS, d.Annotations))
				require.True(h.t, ok, "SQS call %v names no single invoke", d.AWS)
				require.Equal(h.t, headerPart(invs[inv].trace, "Root"), d.TraceID, "SQS call %v", d.AWS)
			}
			return true, ""
		},
		check: func(t *testing.T, h *ccHarness, invs []*ccInvoke) {
			items := h.items(table)
			require.Len(t, items, concurrentInvokes)
			for _, it := range items {
				o := requireOneOwner(t, invs, "idempotency record", itemText(it))
				require.Len(t, o, 1, itemText(it))
				require.Equal(t, "completed", it["status"], itemText(it))
			}
			// Each notification names one invoke's alarm and sample only.
			seen := map[int]bool{}
			require.True(t, pollUntil(time.Minute, func() bool {
				out, err := h.sqs.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(notifyURL), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
				require.NoError(t, err)
				for _, m := range out.Messages {
					o := requireOneOwner(t, invs, "notification", aws.ToString(m.Body))
					require.Len(t, o, 1, aws.ToString(m.Body))
					require.False(t, seen[o[0]], "two notifications for invoke %d", o[0])
					seen[o[0]] = true
					_, _ = h.sqs.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(notifyURL), ReceiptHandle: m.ReceiptHandle})
				}
				return len(seen) == concurrentInvokes
			}), "notifications of invokes %v only", seen)
		},
	}
}

// alarmEvent is the alarm topic's SNS event for alarm on queue going to
// ALARM (pkg/dlq/dlqtest's fixture, renamed).
func alarmEvent(t *testing.T, alarm, queue, snsID string) []byte {
	t.Helper()
	b := dlqtest.Event(t, "sns-alarm-event.json")
	var ev events.SNSEvent
	require.NoError(t, json.Unmarshal(b, &ev))
	var msg map[string]any
	require.NoError(t, json.Unmarshal([]byte(ev.Records[0].SNS.Message), &msg))
	msg["AlarmName"] = alarm
	msg["AlarmArn"] = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:" + alarm
	msg["StateChangeTime"] = time.Now().UTC().Format("2006-01-02T15:04:05.000-0700")
	msg["Trigger"].(map[string]any)["Dimensions"] = []map[string]string{{"name": "QueueName", "value": queue}}
	m, err := json.Marshal(msg)
	require.NoError(t, err)
	ev.Records[0].SNS.Message = string(m)
	ev.Records[0].SNS.MessageID = snsID
	ev.Records[0].SNS.Subject = fmt.Sprintf("ALARM: %q in US East (N. Virginia)", alarm)
	out, err := json.Marshal(ev)
	require.NoError(t, err)
	return out
}

// startRuntime runs the runtime in-process on the case's function until the
// test ends.
func (h *ccHarness) startRuntime(cfg Config) {
	t := h.t
	cfg.Region = h.cfg.Region
	cfg.Functions = []string{h.fnName}
	cfg.AlarmPeriod = -1
	cfg.Logs = h.logs
	cfg.Logger = slog.New(slog.NewTextHandler(h.rtLogs, nil))
	rt, err := New(cfg, NewClients(h.cfg))
	require.NoError(t, err)
	runInTest(t, rt, 30*time.Second, func() {
		t.Logf("function logs:\n%s\nruntime logs:\n%s", h.logs.String(), h.rtLogs.String())
	})
	h.rt = rt
}

// repoRootDir is the repository root (this package is internal/localrt).
func repoRootDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	return dir
}

// segmentCapture stands in for the X-Ray daemon: it keeps every segment
// document the functions send over UDP.
type segmentCapture struct {
	addr string
	mu   sync.Mutex
	docs [][]byte
}

func startSegmentCapture(t *testing.T) *segmentCapture {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	require.NoError(t, conn.SetReadBuffer(4<<20))
	c := &segmentCapture{addr: conn.LocalAddr().String()}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 64<<10)
		for {
			n, _, err := conn.ReadFrom(buf)
			if err != nil {
				return
			}
			// "{format header}\n{document}"
			_, doc, ok := bytes.Cut(buf[:n], []byte("\n"))
			if !ok {
				continue
			}
			c.mu.Lock()
			c.docs = append(c.docs, bytes.Clone(doc))
			c.mu.Unlock()
		}
	}()
	t.Cleanup(func() { _ = conn.Close(); <-done })
	return c
}

func (c *segmentCapture) raw() [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.docs)
}

// proxiedRequest is one AWS call a function made through the proxy.
type proxiedRequest struct {
	op, traceHeader string
	body            []byte
}

// barrierProxy forwards every request to the emulator. A request for which
// at returns an invoke is held until requests of n different invokes are
// held at once (then all go on: the barrier has tripped), or until
// barrierWait has passed (then it has not, and state says so).
type barrierProxy struct {
	URL  string
	n    int
	at   func(op string, body []byte) (int, bool)
	rp   *httputil.ReverseProxy
	open chan struct{}

	mu       sync.Mutex
	held     map[int]bool
	tripped  bool
	timedOut bool
	reqs     []proxiedRequest
}

func startBarrierProxy(t *testing.T, endpoint string, n int, at func(op string, body []byte) (int, bool)) *barrierProxy {
	t.Helper()
	target, err := url.Parse(endpoint)
	require.NoError(t, err)
	p := &barrierProxy{n: n, at: at, rp: httputil.NewSingleHostReverseProxy(target), open: make(chan struct{}), held: map[int]bool{}}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

func (p *barrierProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	op := operationOf(r, body)
	owner, hold := p.at(op, body)
	p.mu.Lock()
	p.reqs = append(p.reqs, proxiedRequest{op: op, traceHeader: r.Header.Get("X-Amzn-Trace-Id"), body: body})
	hold = hold && !p.tripped && !p.timedOut
	if hold {
		p.held[owner] = true
		if len(p.held) == p.n {
			p.tripped = true
			close(p.open)
		}
	}
	p.mu.Unlock()
	if hold {
		select {
		case <-p.open:
		case <-time.After(barrierWait):
			p.mu.Lock()
			if !p.tripped && !p.timedOut {
				p.timedOut = true
				close(p.open)
			}
			p.mu.Unlock()
		}
	}
	p.rp.ServeHTTP(w, r)
}

// state reports whether the barrier tripped and the invokes it held.
func (p *barrierProxy) state() (bool, []int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var held []int
	for i := range p.held {
		held = append(held, i)
	}
	sort.Ints(held)
	return p.tripped, held
}

func (p *barrierProxy) requests() []proxiedRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.reqs)
}

// operationOf names an AWS call: X-Amz-Target's operation (JSON protocols:
// DynamoDB, SQS) or the Action parameter (query protocol: SNS).
func operationOf(r *http.Request, body []byte) string {
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		_, op, _ := strings.Cut(target, ".")
		return op
	}
	if v, err := url.ParseQuery(string(body)); err == nil && v.Get("Action") != "" {
		return v.Get("Action")
	}
	return r.Method + " " + r.URL.Path
}
