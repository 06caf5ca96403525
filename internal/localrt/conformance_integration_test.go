//go:build integration

package localrt

// Conformance tests: one per event source mapping / alarm rule the local
// runtime reproduces (issue 5, "Done when"). Each creates what it needs in the
// emulator through the SDK — a queue (and DLQ), a Lambda function tagged like
// the stack's, and a mapping deployed disabled as Terraform deploys it in the
// local environment — and runs the runtime in-process against the behave
// fixture (testdata/fixtures/behave), whose mode is its deployed environment.

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/require"

	"github.com/offload/offload/internal/testenv"
	"github.com/offload/offload/pkg/logging/loggingtest"
)

type mappingOpts struct {
	mode           string
	sleepMS        int
	timeout        int32 // function timeout, seconds (default 3)
	visibility     int   // queue visibility timeout, seconds (default 2)
	maxReceive     int   // >0 adds a DLQ with this maxReceiveCount
	batchSize      int32 // default 10
	window         int32
	report         bool
	maxConcurrency int32
	filters        []string // the mapping's FilterCriteria patterns
}

type fixture struct {
	t        *testing.T
	cfg      aws.Config
	sqs      *sqs.Client
	name     string
	fnName   string
	record   string
	queueURL string
	queueARN string
	dlqURL   string
	logs     *loggingtest.Buffer
	rt       *Runtime
}

var (
	roleOnce sync.Once
	roleARN  string
	roleErr  error
)

func lambdaRole(t *testing.T, cfg aws.Config) string {
	t.Helper()
	roleOnce.Do(func() {
		out, err := iam.NewFromConfig(cfg).CreateRole(context.Background(), &iam.CreateRoleInput{
			RoleName:                 aws.String(testenv.UniqueName("localrt-role")),
			AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`),
		})
		if err != nil {
			roleErr = err
			return
		}
		roleARN = aws.ToString(out.Role.Arn)
	})
	require.NoError(t, roleErr)
	return roleARN
}

// functionSpec is what a test's function varies; deployFunction gives it
// the rest as the stack deploys it (provided.al2023, arm64, bootstrap).
type functionSpec struct {
	name     string
	folder   string // its TagFunction: the host build the runtime runs
	timeout  int32
	memoryMB int32
	env      map[string]string
}

// deployFunction deploys s tagged as the stack tags a function (its folder,
// offload:local-runtime=enabled) and deletes it when the test ends.
func deployFunction(t *testing.T, cfg aws.Config, s functionSpec) string {
	t.Helper()
	lc := lambda.NewFromConfig(cfg)
	arn, err := createUniqueFunction(context.Background(), lc, &lambda.CreateFunctionInput{
		FunctionName:  aws.String(s.name),
		Role:          aws.String(lambdaRole(t, cfg)),
		Runtime:       lambdatypes.RuntimeProvidedal2023,
		Handler:       aws.String("bootstrap"),
		Architectures: []lambdatypes.Architecture{lambdatypes.ArchitectureArm64},
		Code:          &lambdatypes.FunctionCode{ZipFile: testenv.BootstrapZip(t, "the local runtime runs the host build, not this")},
		Timeout:       aws.Int32(s.timeout),
		MemorySize:    aws.Int32(s.memoryMB),
		Environment:   &lambdatypes.Environment{Variables: s.env},
		Tags:          map[string]string{TagFunction: s.folder, TagLocalRuntime: "enabled"},
	})
	require.NoError(t, err)
	t.Cleanup(func() {
		_, _ = lc.DeleteFunction(context.Background(), &lambda.DeleteFunctionInput{FunctionName: aws.String(s.name)})
	})
	return arn
}

// createFunction deploys a behave function (128 MB) as the stack does.
func createFunction(t *testing.T, cfg aws.Config, name string, timeout int32, env map[string]string) string {
	t.Helper()
	return deployFunction(t, cfg, functionSpec{name: name, folder: "behave", timeout: timeout, memoryMB: 128, env: env})
}

// createTopic creates an SNS topic that is deleted when the test ends.
func createTopic(t *testing.T, cfg aws.Config, name string) string {
	t.Helper()
	sc := sns.NewFromConfig(cfg)
	topic, err := sc.CreateTopic(context.Background(), &sns.CreateTopicInput{Name: aws.String(name)})
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = sc.DeleteTopic(context.Background(), &sns.DeleteTopicInput{TopicArn: topic.TopicArn}) })
	return aws.ToString(topic.TopicArn)
}

// subscribeFunction subscribes the function fnARN to topicARN with the
// subscription attributes attrs (a filter policy; nil: none).
func subscribeFunction(t *testing.T, cfg aws.Config, topicARN, fnARN string, attrs map[string]string) {
	t.Helper()
	_, err := sns.NewFromConfig(cfg).Subscribe(context.Background(), &sns.SubscribeInput{
		TopicArn: aws.String(topicARN), Protocol: aws.String("lambda"), Endpoint: aws.String(fnARN), Attributes: attrs,
	})
	require.NoError(t, err, fnARN)
}

// peakOverlap is the most of invs that ran at once (an end and a start at
// the same instant do not overlap).
func peakOverlap(invs []fixtureRecord) int {
	type edge struct {
		at    int64
		delta int
	}
	var edges []edge
	for _, r := range invs {
		edges = append(edges, edge{r.Start, +1}, edge{r.End, -1})
	}
	sort.Slice(edges, func(i, j int) bool {
		if edges[i].at == edges[j].at {
			return edges[i].delta < edges[j].delta
		}
		return edges[i].at < edges[j].at
	})
	cur, peak := 0, 0
	for _, e := range edges {
		cur += e.delta
		peak = max(peak, cur)
	}
	return peak
}

func createQueue(t *testing.T, client *sqs.Client, name string, attrs map[string]string) (url, arn string) {
	t.Helper()
	ctx := context.Background()
	out, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = client.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: out.QueueUrl}) })
	a, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: out.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	require.NoError(t, err)
	return aws.ToString(out.QueueUrl), a.Attributes["QueueArn"]
}

// newBaseFixture is a fixture with its clients, a unique name from prefix, a
// log buffer and a record file, before anything is deployed.
func newBaseFixture(t *testing.T, prefix string) *fixture {
	t.Helper()
	cfg := testenv.AWSConfig(t)
	return &fixture{t: t, cfg: cfg, sqs: sqs.NewFromConfig(cfg), name: testenv.UniqueName(prefix), logs: &loggingtest.Buffer{},
		record: t.TempDir() + "/record.jsonl"}
}

// defaults fills the settings a test left zero: a 3 s function timeout, a 2 s
// visibility timeout and batches of 10.
func (o *mappingOpts) defaults() {
	if o.timeout == 0 {
		o.timeout = 3
	}
	if o.visibility == 0 {
		o.visibility = 2
	}
	if o.batchSize == 0 {
		o.batchSize = 10
	}
}

// newFixture deploys a queue (and DLQ), a behave function and a disabled
// mapping with the settings under test, and starts the runtime on them.
func newFixture(t *testing.T, o mappingOpts) *fixture {
	t.Helper()
	f := newBaseFixture(t, "lrt")
	cfg := f.cfg
	f.fnName = f.name + "-fn"
	o.defaults()
	attrs := map[string]string{"VisibilityTimeout": strconv.Itoa(o.visibility)}
	if o.maxReceive > 0 {
		var dlqARN string
		f.dlqURL, dlqARN = createQueue(t, f.sqs, f.name+"-dlq", nil)
		attrs["RedrivePolicy"] = fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":%d}`, dlqARN, o.maxReceive)
	}
	f.queueURL, f.queueARN = createQueue(t, f.sqs, f.name, attrs)
	createFunction(t, cfg, f.fnName, o.timeout, map[string]string{
		"FIXTURE_MODE": o.mode, "FIXTURE_RECORD": f.record, "FIXTURE_SLEEP_MS": strconv.Itoa(o.sleepMS),
	})
	createMapping(t, lambda.NewFromConfig(cfg), f, o)
	f.start(Config{Functions: []string{f.fnName}, AlarmPeriod: -1})
	return f
}

// createMapping creates f's queue → function mapping with o's settings,
// disabled as the local environment deploys it (moto's fake mapping never
// fires), and deletes it when the test ends.
func createMapping(t *testing.T, lc *lambda.Client, f *fixture, o mappingOpts) {
	t.Helper()
	in := &lambda.CreateEventSourceMappingInput{
		FunctionName:   aws.String(f.fnName),
		EventSourceArn: aws.String(f.queueARN),
		Enabled:        aws.Bool(false),
		BatchSize:      aws.Int32(o.batchSize),
	}
	if o.window > 0 {
		in.MaximumBatchingWindowInSeconds = aws.Int32(o.window)
	}
	if o.report {
		in.FunctionResponseTypes = []lambdatypes.FunctionResponseType{lambdatypes.FunctionResponseTypeReportBatchItemFailures}
	}
	if o.maxConcurrency > 0 {
		in.ScalingConfig = &lambdatypes.ScalingConfig{MaximumConcurrency: aws.Int32(o.maxConcurrency)}
	}
	if len(o.filters) > 0 {
		in.FilterCriteria = &lambdatypes.FilterCriteria{}
		for _, p := range o.filters {
			in.FilterCriteria.Filters = append(in.FilterCriteria.Filters, lambdatypes.Filter{Pattern: aws.String(p)})
		}
	}
	m, err := lc.CreateEventSourceMapping(context.Background(), in)
	require.NoError(t, err)
	require.Equal(t, "Disabled", aws.ToString(m.State))
	t.Cleanup(func() {
		_, _ = lc.DeleteEventSourceMapping(context.Background(), &lambda.DeleteEventSourceMappingInput{UUID: m.UUID})
	})
}

// runInTest runs rt in-process until t ends and returns once it is ready,
// failing t when it stops first or is not ready within wait. dump runs at the
// end when t failed, before the runtime's own error is checked.
func runInTest(t *testing.T, rt *Runtime, wait time.Duration, dump func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var runErr error
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		runErr = rt.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-finished
		if t.Failed() {
			dump()
		}
		require.NoError(t, runErr)
	})
	select {
	case <-rt.Ready():
	case <-finished:
		require.NoError(t, runErr)
		t.Fatal("runtime stopped before it was ready")
	case <-time.After(wait):
		t.Fatalf("runtime not ready after %s", wait)
	}
}

// start runs the runtime in-process until the test ends.
func (f *fixture) start(cfg Config) {
	t := f.t
	t.Helper()
	cfg.Region = f.cfg.Region
	cfg.Endpoint = testenv.Endpoint(t)
	cfg.BinDir = fixtureBin
	cfg.Logs = f.logs
	cfg.Logger = slog.New(slog.NewTextHandler(f.logs, nil))
	rt, err := New(cfg, NewClients(f.cfg))
	require.NoError(t, err)
	runInTest(t, rt, 15*time.Second, func() { t.Logf("runtime logs:\n%s", f.logs.String()) })
	f.rt = rt
}

func (f *fixture) send(bodies ...string) {
	f.t.Helper()
	for _, b := range bodies {
		_, err := f.sqs.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(f.queueURL), MessageBody: aws.String(b)})
		require.NoError(f.t, err)
	}
}

// delivery is one SQS record as the function received it.
type delivery struct {
	invoke  int
	at      time.Time
	id      string
	body    string
	count   string
	pid     int
	records int
	// firstReceive is the message's ApproximateFirstReceiveTimestamp: a
	// redelivery is received at least one visibility timeout after it.
	firstReceive time.Time
}

func (f *fixture) invokes() []fixtureRecord { return readRecords(f.t, f.record) }

func (f *fixture) deliveries() []delivery {
	var out []delivery
	for i, r := range f.invokes() {
		var ev events.SQSEvent
		require.NoError(f.t, json.Unmarshal(r.Event, &ev))
		for _, rec := range ev.Records {
			ms, _ := strconv.ParseInt(rec.Attributes["ApproximateFirstReceiveTimestamp"], 10, 64)
			out = append(out, delivery{invoke: i, at: time.Unix(0, r.Start), id: rec.MessageId, body: rec.Body, count: rec.Attributes["ApproximateReceiveCount"], pid: r.PID, records: len(ev.Records), firstReceive: time.UnixMilli(ms)})
		}
	}
	return out
}

func (f *fixture) deliveriesOf(body string) []delivery {
	var out []delivery
	for _, d := range f.deliveries() {
		if d.body == body {
			out = append(out, d)
		}
	}
	return out
}

// withCount returns the delivery of body with this receive count. Deliveries
// are recorded in the order the function ran them, and two environments may
// run a message's deliveries out of order (a message whose visibility
// timeout ran out while its first invoke was still cold-starting on a busy
// machine is received again, as on AWS): tests select by receive count.
func (f *fixture) withCount(body, count string) (delivery, bool) {
	for _, d := range f.deliveriesOf(body) {
		if d.count == count {
			return d, true
		}
	}
	return delivery{}, false
}

// lazyDeliveries prints the fixture's deliveries when a failure message is
// formatted (after the condition last failed), for diagnosis.
type lazyDeliveries struct{ f *fixture }

func (l lazyDeliveries) String() string {
	var b strings.Builder
	for _, d := range l.f.deliveries() {
		fmt.Fprintf(&b, " %s/%s/%s/%d", d.body, d.count, d.id, d.invoke)
	}
	return b.String()
}

func (f *fixture) hasCount(body, count string) bool {
	_, ok := f.withCount(body, count)
	return ok
}

func (f *fixture) visibleAndInFlight(url string) (int, int) {
	out, err := f.sqs.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll},
	})
	require.NoError(f.t, err)
	v, _ := strconv.Atoi(out.Attributes["ApproximateNumberOfMessages"])
	n, _ := strconv.Atoi(out.Attributes["ApproximateNumberOfMessagesNotVisible"])
	return v, n
}

func (f *fixture) waitQueueEmpty(within time.Duration) {
	f.t.Helper()
	require.Eventually(f.t, func() bool {
		v, n := f.visibleAndInFlight(f.queueURL)
		return v == 0 && n == 0
	}, within, 100*time.Millisecond, "queue %s not empty", f.queueURL)
}

func eventually(t *testing.T, within time.Duration, cond func() bool, msg string, args ...any) {
	t.Helper()
	require.Eventually(t, cond, within, 50*time.Millisecond, append([]any{msg}, args...)...)
}

// moto's own mapping, when enabled, takes a receive on every send (the
// function's first delivery then shows ApproximateReceiveCount 2). The local
// environment deploys mappings disabled and the runtime polls them: a first
// delivery is a first receive.
func TestConformanceDisabledMappingFirstDeliveryHasReceiveCountOne(t *testing.T) {
	t.Parallel()
	// Visibility far above any receive-to-delete time: a redelivery here
	// would only show a slow machine, not the rule.
	f := newFixture(t, mappingOpts{mode: "succeed", visibility: 30})
	f.send("first")
	eventually(t, 10*time.Second, func() bool { return len(f.deliveries()) == 1 }, "one delivery")
	d := f.deliveries()[0]
	require.Equal(t, "first", d.body)
	require.Equal(t, "1", d.count)
	f.waitQueueEmpty(5 * time.Second)
	require.Len(t, f.deliveries(), 1, "a success is deleted, never redelivered")
}

func TestConformancePartialBatchResponseDeletesOnlySuccesses(t *testing.T) {
	t.Parallel()
	// Visibility 5 s: successes are deleted long before it runs out, even on
	// a busy machine; the listed failures come back after it.
	f := newFixture(t, mappingOpts{mode: "fail-listed", report: true, visibility: 5})
	_, err := f.sqs.SendMessageBatch(context.Background(), &sqs.SendMessageBatchInput{QueueUrl: aws.String(f.queueURL), Entries: []sqstypes.SendMessageBatchRequestEntry{
		{Id: aws.String("1"), MessageBody: aws.String("ok-1")}, {Id: aws.String("2"), MessageBody: aws.String("fail-2")},
		{Id: aws.String("3"), MessageBody: aws.String("ok-3")}, {Id: aws.String("4"), MessageBody: aws.String("fail-4")},
	}})
	require.NoError(t, err)
	eventually(t, 30*time.Second, func() bool {
		return f.hasCount("fail-2", "2") && f.hasCount("fail-4", "2")
	}, "listed failures come back; deliveries (body/receive count/message id/invoke): %s", lazyDeliveries{f})
	for _, body := range []string{"ok-1", "ok-3"} {
		requireEachDeliveredOnce(t, f.deliveriesOf(body), body)
	}
}

// requireEachDeliveredOnce asserts that each message among ds (the
// deliveries of one body) was delivered exactly once: a success is deleted,
// never redelivered. Keyed by message id, not body: when the busy emulator
// loses a SendMessageBatch answer, the SDK's retry stores the body a second
// time under another id (docs/local-runtime.md), and each copy must then
// be delivered once.
func requireEachDeliveredOnce(t *testing.T, ds []delivery, body string) {
	t.Helper()
	require.NotEmpty(t, ds, "%s never delivered", body)
	byID := map[string]int{}
	for _, d := range ds {
		byID[d.id]++
	}
	if len(byID) > 1 {
		t.Logf("%s was stored %d times (a retried send); each copy is checked", body, len(byID))
	}
	for id, n := range byID {
		require.Equal(t, 1, n, "successes are deleted: %s (message %s) delivered %d times: %v", body, id, n, ds)
	}
}

func TestConformanceWithoutReportBatchItemFailuresAResponseIsIgnored(t *testing.T) {
	t.Parallel()
	// An undeleted message would stay in flight: waitQueueEmpty would fail.
	f := newFixture(t, mappingOpts{mode: "fail-listed", report: false, visibility: 30})
	f.send("fail-but-not-reported")
	f.waitQueueEmpty(15 * time.Second)
	require.Len(t, f.deliveries(), 1)
}

func TestConformanceInvalidPartialResponseFailsTheWholeBatch(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"empty-id", "unknown-id", "bad-response"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, mappingOpts{mode: mode, report: true, visibility: 1})
			f.send("a", "b")
			eventually(t, 30*time.Second, func() bool {
				return f.hasCount("a", "2") && f.hasCount("b", "2")
			}, "the whole batch comes back")
		})
	}
}

func TestConformanceFunctionErrorReturnsTheWholeBatchAfterTheVisibilityTimeout(t *testing.T) {
	t.Parallel()
	f := newFixture(t, mappingOpts{mode: "error", report: true, window: 1, visibility: 2})
	f.send("x", "y")
	// A delivery and the next one of the same message (receive counts k and
	// k+1; k is 1 unless the emulator lost a receive's response on a busy
	// machine, which only hides that message for a visibility timeout).
	redelivered := func(body string) (delivery, int, bool) {
		for k := 1; k < 5; k++ {
			if !f.hasCount(body, strconv.Itoa(k)) {
				continue
			}
			if next, ok := f.withCount(body, strconv.Itoa(k+1)); ok {
				return next, k, true
			}
		}
		return delivery{}, 0, false
	}
	eventually(t, 30*time.Second, func() bool {
		_, _, x := redelivered("x")
		_, _, y := redelivered("y")
		return x && y
	}, "delivered, then redelivered")
	for _, body := range []string{"x", "y"} {
		next, k, _ := redelivered(body)
		// Measured from the first receive (SQS's own timestamp), not from
		// the first invoke's start, which a slow cold start delays: receive
		// k+1 comes at least k visibility timeouts after it.
		gap := next.at.Sub(next.firstReceive)
		require.GreaterOrEqual(t, gap, time.Duration(k)*2*time.Second-time.Millisecond, "not before the visibility timeout (2 s)")
	}
}

func TestConformanceTimeoutKillsTheFunctionAndReturnsTheBatch(t *testing.T) {
	t.Parallel()
	f := newFixture(t, mappingOpts{mode: "sleep", sleepMS: 60000, timeout: 1, visibility: 2})
	f.send("slow")
	// The stuck function notes each delivery on arrival (and is killed).
	// Two consecutive deliveries of the message are the evidence, usually
	// receives 1 and 2; on a starved machine a delivery can be killed before
	// the function got to note it (the timeout runs from the runtime's
	// /next), and then the next pair shows the same rule.
	var first, second delivery
	eventually(t, 20*time.Second, func() bool {
		ds := f.deliveriesOf("slow")
		for _, d := range ds {
			n, _ := strconv.Atoi(d.count)
			for _, e := range ds {
				if n >= 2 && e.id == d.id && e.count == strconv.Itoa(n-1) {
					first, second = e, d
					return true
				}
			}
		}
		return false
	}, "the same message delivered again; deliveries (body/receive count/message id/invoke): %s", lazyDeliveries{f})
	require.Equal(t, first.firstReceive, second.firstReceive)
	k, _ := strconv.Atoi(first.count)
	require.GreaterOrEqual(t, second.at.Sub(second.firstReceive), time.Duration(k)*2*time.Second-time.Millisecond,
		"receive %d comes at least %d visibility timeouts (2 s) after the first receive, not at the 1 s function timeout", k+1, k)
	eventually(t, 5*time.Second, func() bool { return bytesCount(f.logs.String(), "\tStatus: timeout") >= 2 }, "both deliveries timed out")
	logs := f.logs.String()
	require.Equal(t, bytesCount(logs, "START RequestId: "), bytesCount(logs, "\tInit Duration: "), "each delivery after a timeout is a cold start")
	_, inFlight := f.visibleAndInFlight(f.queueURL)
	require.LessOrEqual(t, inFlight, 1, "the message is still on the queue")
}

func bytesCount(s, sub string) int { return bytes.Count([]byte(s), []byte(sub)) }

func TestConformanceDLQAfterExactlyMaxReceiveCountDeliveries(t *testing.T) {
	t.Parallel()
	f := newFixture(t, mappingOpts{mode: "error", maxReceive: 3, visibility: 1})
	f.send("doomed")
	var dlqMsg sqstypes.Message
	eventually(t, 30*time.Second, func() bool {
		out, err := f.sqs.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(f.dlqURL), VisibilityTimeout: 30})
		if err != nil || len(out.Messages) == 0 {
			return false
		}
		dlqMsg = out.Messages[0]
		return true
	}, "message reaches the DLQ")
	require.Equal(t, "doomed", aws.ToString(dlqMsg.Body))
	time.Sleep(1500 * time.Millisecond) // anything still due would show up now
	ds := f.deliveriesOf("doomed")
	counts := make([]string, len(ds))
	for i, d := range ds {
		counts[i] = d.count
	}
	sort.Strings(counts) // two environments may run them out of order
	require.Equal(t, []string{"1", "2", "3"}, counts, "exactly maxReceiveCount deliveries reach the function")
}

func TestConformanceBatchingWindow(t *testing.T) {
	t.Parallel()
	t.Run("gathers until the window ends", func(t *testing.T) {
		t.Parallel()
		// Visibility well above the window: a message whose visibility
		// ran out while the window was open would come back, as in AWS.
		f := newFixture(t, mappingOpts{mode: "succeed", batchSize: 10, window: 3, visibility: 10})
		sent := time.Now()
		for _, b := range []string{"w1", "w2", "w3"} {
			f.send(b)
			time.Sleep(200 * time.Millisecond)
		}
		eventually(t, 10*time.Second, func() bool { return len(f.deliveries()) == 3 }, "three records")
		invs := f.invokes()
		require.Len(t, invs, 1, "one invoke carries the three records")
		require.GreaterOrEqual(t, time.Unix(0, invs[0].Start).Sub(sent), 1800*time.Millisecond, "the window is waited out when the batch is not full")
	})
	t.Run("a full batch does not wait for the window", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, mappingOpts{mode: "succeed", batchSize: 3, window: 10, visibility: 20})
		sent := time.Now()
		f.send("f1", "f2", "f3")
		eventually(t, 8*time.Second, func() bool { return len(f.deliveries()) == 3 }, "three records")
		invs := f.invokes()
		require.Len(t, invs, 1)
		require.Less(t, time.Unix(0, invs[0].Start).Sub(sent), 5*time.Second, "invoked when the batch filled, not after 10 s")
	})
}

func TestConformanceMaximumConcurrencyIsNeverExceeded(t *testing.T) {
	t.Parallel()
	f := newFixture(t, mappingOpts{mode: "succeed", sleepMS: 600, batchSize: 1, maxConcurrency: 2, visibility: 10})
	for i := range 8 {
		f.send(fmt.Sprintf("c%d", i))
	}
	eventually(t, 20*time.Second, func() bool { return len(f.deliveries()) >= 8 }, "eight deliveries")
	invs := f.invokes()
	pids := map[int]bool{}
	for _, r := range invs {
		pids[r.PID] = true
	}
	require.Equal(t, 2, peakOverlap(invs), "invokes overlap up to, and never beyond, MaximumConcurrency")
	require.LessOrEqual(t, len(pids), 2, "no more environments than MaximumConcurrency")
}

func TestConformanceAWSTraceHeaderIsInTheEvent(t *testing.T) {
	t.Parallel()
	f := newFixture(t, mappingOpts{mode: "succeed", visibility: 30}) // no redelivery on a busy machine
	trace := "Root=1-6745f2a1-0123456789abcdef01234567;Parent=0123456789abcdef;Sampled=1"
	_, err := f.sqs.SendMessage(context.Background(), &sqs.SendMessageInput{
		QueueUrl: aws.String(f.queueURL), MessageBody: aws.String(`{"auditText":"traced"}`),
		MessageSystemAttributes: map[string]sqstypes.MessageSystemAttributeValue{
			"AWSTraceHeader": {DataType: aws.String("String"), StringValue: aws.String(trace)},
		},
		MessageAttributes: map[string]sqstypes.MessageAttributeValue{
			"kind": {DataType: aws.String("String"), StringValue: aws.String("audit")},
		},
	})
	require.NoError(t, err)
	eventually(t, 10*time.Second, func() bool { return len(f.invokes()) == 1 }, "one invoke")
	inv := f.invokes()[0]
	var ev events.SQSEvent
	require.NoError(t, json.Unmarshal(inv.Event, &ev))
	require.Len(t, ev.Records, 1)
	rec := ev.Records[0]
	require.Equal(t, trace, rec.Attributes["AWSTraceHeader"])
	require.Equal(t, trace, inv.TraceID, "the function's trace continues the producer's")

	// The rest of Lambda's record shape.
	sum := md5.Sum([]byte(`{"auditText":"traced"}`))
	require.Equal(t, hex.EncodeToString(sum[:]), rec.Md5OfBody)
	require.Equal(t, "aws:sqs", rec.EventSource)
	require.Equal(t, f.queueARN, rec.EventSourceARN)
	require.Equal(t, f.cfg.Region, rec.AWSRegion)
	require.NotEmpty(t, rec.ReceiptHandle)
	for _, k := range []string{"ApproximateReceiveCount", "SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"} {
		require.Contains(t, rec.Attributes, k)
	}
	require.Equal(t, "audit", aws.ToString(rec.MessageAttributes["kind"].StringValue))
	require.Equal(t, "String", rec.MessageAttributes["kind"].DataType)
	require.NotNil(t, rec.MessageAttributes["kind"].StringListValues)
}

func TestConformanceAlarmSendsCloudWatchsPayloadToTheSubscribedFunction(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newBaseFixture(t, "lrt-alarm")
	cfg := f.cfg
	dlqURL, _ := createQueue(t, f.sqs, f.name+"-dlq", nil)
	notifyURL, notifyARN := createQueue(t, f.sqs, f.name+"-notify", nil)
	fnARN := createFunction(t, cfg, f.name+"-handler", 3, map[string]string{"FIXTURE_MODE": "succeed", "FIXTURE_RECORD": f.record})

	sc := sns.NewFromConfig(cfg)
	topic, err := sc.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(f.name + "-alarms")})
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = sc.DeleteTopic(context.Background(), &sns.DeleteTopicInput{TopicArn: topic.TopicArn}) })
	_, err = sc.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("lambda"), Endpoint: aws.String(fnARN)})
	require.NoError(t, err)
	_, err = sc.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String(notifyARN)})
	require.NoError(t, err)

	cw := cloudwatch.NewFromConfig(cfg, CloudWatchQueryProtocol)
	alarmName := f.name + "-dlq-not-empty"
	_, err = cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String(alarmName), AlarmDescription: aws.String("messages in the DLQ"),
		Namespace: aws.String("AWS/SQS"), MetricName: aws.String("ApproximateNumberOfMessagesVisible"),
		Dimensions: []cwtypes.Dimension{{Name: aws.String("QueueName"), Value: aws.String(f.name + "-dlq")}},
		Statistic:  cwtypes.StatisticMaximum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1),
		ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold, Threshold: aws.Float64(0),
		TreatMissingData: aws.String("notBreaching"), ActionsEnabled: aws.Bool(true),
		AlarmActions: []string{aws.ToString(topic.TopicArn)},
	})
	require.NoError(t, err)
	t.Cleanup(func() {
		_, _ = cw.DeleteAlarms(context.Background(), &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{alarmName}})
	})

	f.start(Config{Functions: []string{f.name + "-handler"}, AlarmPeriod: 300 * time.Millisecond, AlarmNamePrefix: f.name})
	time.Sleep(700 * time.Millisecond) // a couple of evaluations of the empty DLQ: no notification
	require.Empty(t, f.invokes(), "no notification while the DLQ is empty")

	_, err = f.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(dlqURL), MessageBody: aws.String("dead")})
	require.NoError(t, err)
	eventually(t, 10*time.Second, func() bool { return len(f.invokes()) >= 1 }, "the alarm handler is invoked")
	time.Sleep(700 * time.Millisecond)
	require.Len(t, f.invokes(), 1, "one notification per state change")

	var ev events.SNSEvent
	require.NoError(t, json.Unmarshal(f.invokes()[0].Event, &ev))
	require.Len(t, ev.Records, 1)
	rec := ev.Records[0]
	require.Equal(t, "aws:sns", rec.EventSource)
	require.Equal(t, "1.0", rec.EventVersion)
	require.Contains(t, rec.EventSubscriptionArn, aws.ToString(topic.TopicArn)+":")
	require.Equal(t, aws.ToString(topic.TopicArn), rec.SNS.TopicArn)
	require.Equal(t, "Notification", rec.SNS.Type)
	require.Equal(t, fmt.Sprintf("ALARM: %q in US East (N. Virginia)", alarmName), rec.SNS.Subject)

	var p events.CloudWatchAlarmSNSPayload
	require.NoError(t, json.Unmarshal([]byte(rec.SNS.Message), &p))
	require.Equal(t, alarmName, p.AlarmName)
	require.Equal(t, "messages in the DLQ", p.AlarmDescription)
	require.Equal(t, "ALARM", p.NewStateValue)
	require.Equal(t, "OK", p.OldStateValue)
	// The datapoint is the DLQ's depth: one message, or two when the busy
	// emulator lost SendMessage's first answer and the SDK sent it again.
	attrs, err := f.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(dlqURL),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages}})
	require.NoError(t, err)
	depth := attrs.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessages)]
	require.Contains(t, []string{"1", "2"}, depth)
	require.Contains(t, p.NewStateReason, "Threshold Crossed: 1 out of the last 1 datapoints ["+depth+".0")
	require.Equal(t, "AWS/SQS", p.Trigger.Namespace)
	require.Equal(t, "ApproximateNumberOfMessagesVisible", p.Trigger.MetricName)
	require.Equal(t, "MAXIMUM", p.Trigger.Statistic)
	require.Equal(t, []events.CloudWatchDimension{{Name: "QueueName", Value: f.name + "-dlq"}}, p.Trigger.Dimensions)
	require.Equal(t, "GreaterThanThreshold", p.Trigger.ComparisonOperator)
	require.Contains(t, p.AlarmARN, ":alarm:"+alarmName)
	require.NotEmpty(t, p.AWSAccountID)

	alarms, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{alarmName}})
	require.NoError(t, err)
	require.Equal(t, cwtypes.StateValueAlarm, alarms.MetricAlarms[0].StateValue, "the state is set in the emulator")

	// The SQS subscriber got the same notification in SNS's envelope.
	out, err := f.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(notifyURL), WaitTimeSeconds: 2})
	require.NoError(t, err)
	require.Len(t, out.Messages, 1)
	var env struct{ Type, TopicArn, Subject, Message string }
	require.NoError(t, json.Unmarshal([]byte(aws.ToString(out.Messages[0].Body)), &env))
	require.Equal(t, "Notification", env.Type)
	require.Equal(t, rec.SNS.Message, env.Message)

	// Emptying the DLQ brings the alarm back to OK (no OK actions: nothing sent).
	_, err = f.sqs.PurgeQueue(ctx, &sqs.PurgeQueueInput{QueueUrl: aws.String(dlqURL)})
	require.NoError(t, err)
	eventually(t, 10*time.Second, func() bool {
		a, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{alarmName}})
		return err == nil && a.MetricAlarms[0].StateValue == cwtypes.StateValueOk
	}, "alarm back to OK")
	require.Len(t, f.invokes(), 1)
}
