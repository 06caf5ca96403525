// Package latencybench is `make bench-latency`: it measures, client-side,
// what a user of the example service waits for on each write endpoint —
// POST /audit (buffered), /audit?durable=1, /audit/sync, /sms (enqueued) and
// /sms/sync (the provider on the request path) — on the local stack: the
// emulator (AWS_ENDPOINT_URL), cmd/example-service and
// cmd/offload-twilio-fake, which it starts and stops itself.
//
// Load is open-loop: requests are sent at Poisson arrival times at the same
// rate for every endpoint, each in its own goroutine, whatever the earlier
// ones are doing, and each latency runs from the request's scheduled time to
// the last byte of its answer. A slow answer therefore never delays the next
// request's clock (no coordinated omission), and a generator that falls
// behind its schedule is counted against the service, not hidden. The
// endpoints are measured one after the other, each with the same request
// mix (the same sequence of body sizes) after a warm-up.
//
// The report ends with one line, parsed by tools and tests (ParseLastLine):
//
//	latency: audit_async_p50_ms=<x> audit_async_p99_ms=<x> audit_durable_p99_ms=<x> audit_sync_p99_ms=<x> sms_enqueue_p99_ms=<x> sms_sync_p99_ms=<x>
package latencybench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/offload/offload/internal/loopback"
	"github.com/offload/offload/internal/sdkconfig"
)

// Config is one run.
type Config struct {
	// ServiceBin and TwilioFakeBin are the built cmd/example-service and
	// cmd/offload-twilio-fake.
	ServiceBin, TwilioFakeBin string
	// Requests is how many requests each endpoint is measured on; Warmup
	// how many it gets before, unmeasured.
	Requests, Warmup int
	// Rate is the arrival rate, requests per second, the same for every
	// endpoint.
	Rate float64
	// SMSMedian and SMSP99 are the Twilio stand-in's latency distribution.
	SMSMedian, SMSP99 time.Duration
	// LogDir receives the service's and the stand-in's logs.
	LogDir string
	// Seed fixes the request mix and the arrival times (0: 1).
	Seed uint64
	// Only, when set, names the endpoints to measure (Endpoint.Name); the
	// others are skipped (and the last line shows 0 for them).
	Only []string
	// ServiceArgs are extra flags for the example service (--cpuprofile).
	ServiceArgs []string
	// FloorBin, when set, is a program that serves the floor (floor.go) when
	// started with --serve-floor ADDR; the floor is then measured first.
	FloorBin string
}

// Endpoint is one measured endpoint.
type Endpoint struct {
	// Name is its key in the last line's field names ("audit_async").
	Name string
	// Path is the POST request's path (it may carry a query).
	Path string
	// Label is how the report names it.
	Label string
	// sms says the body is an SMS request, else an audit record.
	sms bool
	// floor says it is served by the floor server, not the service.
	floor bool
}

// queue names the queue an endpoint's accepted records land on ("audit",
// "sms"), or "" when they land on none.
func (e Endpoint) queue() string {
	switch e.Name {
	case "audit_async", "audit_durable":
		return "audit"
	case "sms_enqueue":
		return "sms"
	}
	return ""
}

// Endpoints are the measured endpoints, in the order they run.
var Endpoints = []Endpoint{
	{Name: "audit_async", Path: "/audit", Label: "POST /audit (buffered, async)"},
	{Name: "audit_durable", Path: "/audit?durable=1", Label: "POST /audit?durable=1 (SQS before 202)"},
	{Name: "audit_sync", Path: "/audit/sync", Label: "POST /audit/sync (DynamoDB before 201)"},
	{Name: "sms_enqueue", Path: "/sms", Label: "POST /sms (SQS before 202)", sms: true},
	{Name: "sms_sync", Path: "/sms/sync", Label: "POST /sms/sync (provider before 201)", sms: true},
}

// Stats are one endpoint's measured latencies.
type Stats struct {
	Endpoint Endpoint
	// N is the number of requests measured; Errors how many were not
	// answered 2xx (or not at all).
	N, Errors int
	// FirstError describes one failed request.
	FirstError string
	// P50, P99, P999 and Max are client-side latencies (nearest rank).
	P50, P99, P999, Max time.Duration
	// Behind is the largest delay between a request's scheduled time and
	// its send (the generator's own lag, included in the latencies).
	Behind time.Duration
	// ServiceCPU is the example service's CPU time per measured request
	// (all its threads, from /proc; 0 where the system does not say).
	ServiceCPU time.Duration
	// failed are the indexes of the requests not answered 2xx.
	failed []int
}

// Result is a whole run.
type Result struct {
	Stats []Stats
	// Stored reports whether every record answered 202 reached its queue
	// (checked after the service's SIGTERM flush).
	Stored string
	// StoredOK is false when a record answered 2xx is missing from its
	// queue (or the queue holds a message no request of the run sent); a
	// record stored twice is not a failure (SQS is at-least-once).
	StoredOK bool
}

// Get returns the stats of the endpoint named name.
func (r Result) Get(name string) Stats {
	for _, s := range r.Stats {
		if s.Endpoint.Name == name {
			return s
		}
	}
	return Stats{}
}

// lastLineFields are the last line's fields, in order.
var lastLineFields = []string{"audit_async_p50_ms", "audit_async_p99_ms", "audit_durable_p99_ms", "audit_sync_p99_ms", "sms_enqueue_p99_ms", "sms_sync_p99_ms"}

// LastLine is the report's last line.
func (r Result) LastLine() string {
	v := map[string]time.Duration{
		"audit_async_p50_ms":   r.Get("audit_async").P50,
		"audit_async_p99_ms":   r.Get("audit_async").P99,
		"audit_durable_p99_ms": r.Get("audit_durable").P99,
		"audit_sync_p99_ms":    r.Get("audit_sync").P99,
		"sms_enqueue_p99_ms":   r.Get("sms_enqueue").P99,
		"sms_sync_p99_ms":      r.Get("sms_sync").P99,
	}
	parts := make([]string, len(lastLineFields))
	for i, f := range lastLineFields {
		parts[i] = f + "=" + msString(v[f])
	}
	return "latency: " + strings.Join(parts, " ")
}

var lastLineRE = regexp.MustCompile(`^latency: audit_async_p50_ms=(\S+) audit_async_p99_ms=(\S+) audit_durable_p99_ms=(\S+) audit_sync_p99_ms=(\S+) sms_enqueue_p99_ms=(\S+) sms_sync_p99_ms=(\S+)$`)

// ParseLastLine reads a report's last line into its six figures
// (milliseconds), by field name.
func ParseLastLine(line string) (map[string]float64, error) {
	m := lastLineRE.FindStringSubmatch(strings.TrimRight(line, "\r\n"))
	if m == nil {
		return nil, fmt.Errorf("not a latency line: %q", line)
	}
	out := make(map[string]float64, len(lastLineFields))
	for i, f := range lastLineFields {
		v, err := strconv.ParseFloat(m[i+1], 64)
		if err != nil || v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("%s=%q is not a non-negative number of milliseconds", f, m[i+1])
		}
		out[f] = v
	}
	return out, nil
}

// Goals checks the goals on r: the buffered audit path's p99 at most
// 1 ms and the synchronous SMS call's p99 at least 20 times the enqueue's.
// Each line says met or missed; the error lists the missed ones.
func (r Result) Goals() ([]string, error) {
	async, smsSync, smsQ := r.Get("audit_async").P99, r.Get("sms_sync").P99, r.Get("sms_enqueue").P99
	var lines []string
	var errs []error
	check := func(ok bool, desc string) {
		verdict := "met"
		if !ok {
			verdict = "MISSED"
			errs = append(errs, errors.New("goal missed: "+desc))
		}
		lines = append(lines, "goal "+verdict+": "+desc)
	}
	check(async <= time.Millisecond, fmt.Sprintf("audit_async_p99_ms %s <= 1", msString(async)))
	ratio := math.Inf(1)
	if smsQ > 0 {
		ratio = float64(smsSync) / float64(smsQ)
	}
	check(ratio >= 20, fmt.Sprintf("sms_sync_p99_ms %s >= 20 x sms_enqueue_p99_ms %s (ratio %.1f)", msString(smsSync), msString(smsQ), ratio))
	for _, s := range r.Stats {
		if s.Errors > 0 {
			errs = append(errs, fmt.Errorf("%s: %d of %d requests failed, e.g. %s", s.Endpoint.Label, s.Errors, s.N, s.FirstError))
		}
	}
	if !r.StoredOK {
		errs = append(errs, errors.New("accepted records missing from their queues: "+r.Stored))
	}
	return lines, errors.Join(errs...)
}

func msString(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/1e6, 'f', 3, 64)
}

// percentile is the nearest-rank p-quantile of sorted.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// Run sets the stack up, measures every endpoint, writes the report to out
// (the last line last) and stops what it started. The error is a failure to
// run; whether the goals hold is Result.Goals.
func Run(ctx context.Context, c Config, out io.Writer) (res Result, err error) {
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.Requests < 1 || c.Rate <= 0 {
		return res, errors.New("latencybench: Requests and Rate must be positive")
	}
	endpoint := os.Getenv("AWS_ENDPOINT_URL")
	if endpoint == "" {
		return res, errors.New("latencybench: AWS_ENDPOINT_URL must point at the emulator")
	}
	awsCfg, err := sdkconfig.Load(ctx)
	if err != nil {
		return res, fmt.Errorf("load AWS config: %w", err)
	}
	st, err := newStack(ctx, awsCfg, c)
	if err != nil {
		return res, err
	}
	defer func() { err = errors.Join(err, st.stop()) }()

	fmt.Fprintf(out, "bench-latency: open-loop Poisson arrivals at %g requests/s per endpoint, %d measured requests each after %d warm-up, the same body mix for each, endpoints one after the other\n",
		c.Rate, c.Requests, c.Warmup)
	fmt.Fprintf(out, "stack: emulator %s, example service %s, Twilio stand-in %s (log-normal latency, median %s, p99 %s); machine: %d CPUs, %s/%s, %s, load average %s at start\n",
		endpoint, st.serviceURL, st.twilioURL, c.SMSMedian, c.SMSP99, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version(), loadAverage())

	client := &http.Client{Transport: &http.Transport{MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024, IdleConnTimeout: time.Minute}, Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()
	// The records each queue must hold after the run (warm-up included).
	queued := map[string][]string{}
	measured := Endpoints
	if c.FloorBin != "" {
		measured = append([]Endpoint{Floor}, Endpoints...)
	}
	for _, ep := range measured {
		if len(c.Only) > 0 && !slices.Contains(c.Only, ep.Name) {
			continue
		}
		// The floor gets the same arrival times and body sizes as POST /audit.
		i := max(slices.Index(Endpoints, ep), 0)
		rng := mrand.New(mrand.NewPCG(c.Seed, uint64(i)))
		bodies := newMix(c.Seed, ep.sms, c.Warmup+c.Requests, ep.Name)
		var warm Stats
		if c.Warmup > 0 {
			if warm, err = drive(ctx, client, st, ep, bodies[:c.Warmup], c.Rate, rng); err != nil {
				return res, err
			}
		}
		server := st.service.Process.Pid
		if ep.floor {
			server = st.floor.Process.Pid
		}
		cpu0 := processCPU(server)
		s, err := drive(ctx, client, st, ep, bodies[c.Warmup:], c.Rate, rng)
		if err != nil {
			return res, err
		}
		if cpu0 > 0 {
			s.ServiceCPU = (processCPU(server) - cpu0) / time.Duration(s.N)
		}
		res.Stats = append(res.Stats, s)
		if q := ep.queue(); q != "" {
			for i, b := range bodies {
				if !slices.Contains(warm.failed, i) && !slices.Contains(s.failed, i-c.Warmup) {
					queued[q] = append(queued[q], bodyID(b))
				}
			}
		}
	}

	// Stop the service the way a deploy does: SIGTERM, which flushes the
	// audit buffer; then every record answered 202 must be on its queue.
	if err := st.stopService(); err != nil {
		return res, err
	}
	heldAudit, err := st.held(ctx, st.auditQueue)
	if err != nil {
		return res, err
	}
	heldSMS, err := st.held(ctx, st.smsQueue)
	if err != nil {
		return res, err
	}
	audit, smsQ := count(queued["audit"], heldAudit), count(queued["sms"], heldSMS)
	res.StoredOK = audit.ok() && smsQ.ok()
	res.Stored = fmt.Sprintf("after SIGTERM the audit queue holds %s (answered 202, buffered and durable, warm-up included); the SMS queue %s", audit, smsQ)
	if audit.Twice+smsQ.Twice > 0 {
		res.Stored += " (a record stored twice is a send the SDK retried after its answer was lost: SQS delivers at least once, and the consumers are idempotent)"
	}

	fmt.Fprintf(out, "\n%-42s %6s %6s %10s %10s %10s %10s %11s %15s\n", "endpoint", "n", "errors", "p50_ms", "p99_ms", "p99.9_ms", "max_ms", "gen_lag_ms", "service_cpu_us")
	for _, s := range res.Stats {
		fmt.Fprintf(out, "%-42s %6d %6d %10s %10s %10s %10s %11s %15.1f\n", s.Endpoint.Label, s.N, s.Errors, msString(s.P50), msString(s.P99), msString(s.P999), msString(s.Max), msString(s.Behind),
			float64(s.ServiceCPU)/1e3)
	}
	fmt.Fprintln(out, "(latency: client-side, from each request's scheduled arrival to the last byte of its answer; gen_lag: the generator's worst delay behind its schedule, included; service_cpu: the service's CPU time per request, all threads, background flushes included)")
	if l := res.floorLine(); l != "" {
		fmt.Fprintln(out, l)
	}
	fmt.Fprintln(out, "\n"+res.Stored)
	fmt.Fprintf(out, "load average at the end: %s (other work on the machine shares its CPUs with the stack and shows in the tails)\n", loadAverage())
	return res, nil
}

// drive sends one request per body at Poisson arrival times at rate and
// measures each from its scheduled time to the end of its answer.
func drive(ctx context.Context, client *http.Client, st *stack, ep Endpoint, bodies []string, rate float64, rng *mrand.Rand) (Stats, error) {
	lat := make([]time.Duration, len(bodies))
	failed := make([]string, len(bodies))
	var wg sync.WaitGroup
	var behind time.Duration
	start := time.Now().Add(10 * time.Millisecond)
	at := time.Duration(0)
	for i, body := range bodies {
		at += time.Duration(rng.ExpFloat64() / rate * float64(time.Second))
		due := start.Add(at)
		sleepUntil(due)
		if lag := time.Since(due); lag > behind {
			behind = lag
		}
		if ctx.Err() != nil {
			return Stats{}, ctx.Err()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ferr := st.post(ctx, client, ep, body)
			lat[i] = time.Since(due)
			if ferr != nil {
				failed[i] = ferr.Error()
			}
		}()
	}
	wg.Wait()
	s := Stats{Endpoint: ep, N: len(bodies), Behind: behind}
	for i, f := range failed {
		if f != "" {
			if s.Errors == 0 {
				s.FirstError = f
			}
			s.Errors++
			s.failed = append(s.failed, i)
		}
	}
	slices.Sort(lat)
	s.P50, s.P99, s.P999, s.Max = percentile(lat, 0.50), percentile(lat, 0.99), percentile(lat, 0.999), lat[len(lat)-1]
	return s, nil
}

// newMix is the request bodies of one endpoint: the same sequence of sizes
// for every endpoint of a kind (audit: 70% short texts of 40–200 bytes, 25%
// of 1–2 KiB, 5% of 8 KiB; SMS: one to two segments), with ids unique to the
// endpoint.
func newMix(seed uint64, isSMS bool, n int, name string) []string {
	rng := mrand.New(mrand.NewPCG(seed, 99))
	run := randomHex(4)
	out := make([]string, n)
	for i := range out {
		id := fmt.Sprintf("bench-%s-%s-%05d", name, run, i)
		x := rng.Float64()
		if isSMS {
			size := 20 + rng.IntN(120)
			if x >= 0.8 {
				size = 161 + rng.IntN(140)
			}
			out[i] = fmt.Sprintf(`{"requestId":%q,"to":"+14155552671","body":%q}`, id, text(rng, size))
			continue
		}
		size := 40 + rng.IntN(160)
		switch {
		case x >= 0.95:
			size = 8 << 10
		case x >= 0.70:
			size = 1024 + rng.IntN(1024)
		}
		out[i] = fmt.Sprintf(`{"messageId":%q,"auditText":%q}`, id, text(rng, size))
	}
	return out
}

func text(rng *mrand.Rand, n int) string {
	const words = "user signed in order placed payment refunded password changed export finished "
	b := make([]byte, n)
	for i := range b {
		b[i] = words[rng.IntN(len(words))]
	}
	return string(b)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// stack is what a run starts: the resources in the emulator, the Twilio
// stand-in and the example service.
type stack struct {
	sqs                    *sqs.Client
	ddb                    *dynamodb.Client
	sm                     *secretsmanager.Client
	auditQueue, smsQueue   string
	table, keys, twilioSec string
	apiKey                 string
	serviceURL, twilioURL  string
	floorURL               string
	service, twilio, floor *exec.Cmd
	serviceDone            chan error
	logs                   []*os.File
}

func newStack(ctx context.Context, cfg aws.Config, c Config) (st *stack, err error) {
	st = &stack{sqs: sqs.NewFromConfig(cfg), ddb: dynamodb.NewFromConfig(cfg), sm: secretsmanager.NewFromConfig(cfg)}
	defer func() {
		if err != nil {
			err = errors.Join(err, st.stop())
		}
	}()
	run := "bench-latency-" + randomHex(3)
	for _, q := range []*string{&st.auditQueue, &st.smsQueue} {
		name := run + "-audit"
		if q == &st.smsQueue {
			name = run + "-sms"
		}
		out, err := st.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name)})
		if err != nil {
			return st, fmt.Errorf("create queue %s: %w", name, err)
		}
		*q = aws.ToString(out.QueueUrl)
	}
	// The stack's AuditMessages schema (terraform/modules/audit-table).
	st.table = run + "-AuditMessages"
	if _, err := st.ddb.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:   aws.String(st.table),
		BillingMode: ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{
			{AttributeName: aws.String("messageId"), AttributeType: ddbtypes.ScalarAttributeTypeS},
			{AttributeName: aws.String("auditTime"), AttributeType: ddbtypes.ScalarAttributeTypeS},
		},
		KeySchema: []ddbtypes.KeySchemaElement{
			{AttributeName: aws.String("messageId"), KeyType: ddbtypes.KeyTypeHash},
			{AttributeName: aws.String("auditTime"), KeyType: ddbtypes.KeyTypeRange},
		},
	}); err != nil {
		return st, fmt.Errorf("create table %s: %w", st.table, err)
	}
	st.apiKey = randomHex(24)
	st.keys = run + "-api-keys"
	if _, err := st.sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(st.keys),
		SecretString: aws.String(`{"keys":[{"id":"bench","key":"` + st.apiKey + `"}]}`)}); err != nil {
		return st, fmt.Errorf("create secret %s: %w", st.keys, err)
	}
	sid, token := "AC"+randomHex(16), randomHex(16)
	twilioSecret, _ := json.Marshal(map[string]string{"account_sid": sid, "auth_token": token, "from": "+15005550006"})
	st.twilioSec = run + "-twilio"
	if _, err := st.sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(st.twilioSec), SecretString: aws.String(string(twilioSecret))}); err != nil {
		return st, fmt.Errorf("create secret %s: %w", st.twilioSec, err)
	}

	twilioAddr, twLog, err := st.childAddrAndLog(c.LogDir, "bench-latency-twilio-fake.log")
	if err != nil {
		return st, err
	}
	st.twilioURL = "http://" + twilioAddr
	st.twilio = exec.Command(c.TwilioFakeBin, "--addr", twilioAddr, "--account-sid", sid,
		"--median", c.SMSMedian.String(), "--p99", c.SMSP99.String())
	st.twilio.Env = append(os.Environ(), "TWILIO_FAKE_AUTH_TOKEN="+token)
	st.twilio.Stdout, st.twilio.Stderr = twLog, twLog
	if err := st.twilio.Start(); err != nil {
		return st, fmt.Errorf("start %s: %w", c.TwilioFakeBin, err)
	}
	if err := waitFor(ctx, func() bool {
		conn, err := net.DialTimeout("tcp", twilioAddr, time.Second)
		if err == nil {
			conn.Close()
		}
		return err == nil
	}); err != nil {
		return st, fmt.Errorf("the Twilio stand-in did not listen on %s (log %s): %w", twilioAddr, twLog.Name(), err)
	}

	serviceAddr, svcLog, err := st.childAddrAndLog(c.LogDir, "bench-latency-example-service.log")
	if err != nil {
		return st, err
	}
	st.serviceURL = "http://" + serviceAddr
	// The rate limit stays on the request path, sized above the bench's
	// load. No X-Ray daemon: requests are not traced.
	st.service = exec.Command(c.ServiceBin, "--addr", serviceAddr,
		"--audit-queue-url", st.auditQueue, "--sms-queue-url", st.smsQueue, "--audit-table", st.table,
		"--api-keys-secret", st.keys, "--rate", "1000000", "--burst", "1000000",
		"--twilio-secret", st.twilioSec, "--twilio-url", st.twilioURL)
	st.service.Args = append(st.service.Args, c.ServiceArgs...)
	st.service.Env = append(os.Environ(), "AWS_XRAY_DAEMON_ADDRESS=")
	st.service.Stdout, st.service.Stderr = svcLog, svcLog
	if err := st.service.Start(); err != nil {
		return st, fmt.Errorf("start %s: %w", c.ServiceBin, err)
	}
	st.serviceDone = make(chan error, 1)
	go func() { st.serviceDone <- st.service.Wait() }()
	if err := waitFor(ctx, func() bool {
		select {
		case <-st.serviceDone:
			return false
		default:
		}
		return loopback.Healthy(st.serviceURL)
	}); err != nil {
		return st, fmt.Errorf("the example service did not answer on %s (log %s): %w", st.serviceURL, svcLog.Name(), err)
	}
	if c.FloorBin != "" {
		return st, st.startFloor(ctx, c)
	}
	return st, nil
}

// childAddrAndLog is what a child process of the bench needs before it
// starts: a free loopback address to listen on and its log file (name in dir,
// the system's temporary directory when dir is empty), closed with the stack.
func (st *stack) childAddrAndLog(dir, name string) (string, *os.File, error) {
	addr, err := loopback.FreeAddr()
	if err != nil {
		return "", nil, err
	}
	if dir == "" {
		dir = os.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", nil, err
	}
	f, err := os.Create(dir + "/" + name)
	if err != nil {
		return "", nil, err
	}
	st.logs = append(st.logs, f)
	return addr, f, nil
}

// post sends one request; an error is a failed request (no answer, or not
// 2xx).
func (st *stack) post(ctx context.Context, client *http.Client, ep Endpoint, body string) error {
	base := st.serviceURL
	if ep.floor {
		base = st.floorURL
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+ep.Path, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-API-Key", st.apiKey)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	answer, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s answered %d: %s", ep.Path, resp.StatusCode, strings.TrimSpace(string(answer)))
	}
	return nil
}

// stopService sends the service SIGTERM and waits for it to exit.
func (st *stack) stopService() error {
	if st.service == nil || st.service.Process == nil {
		return nil
	}
	select {
	case err := <-st.serviceDone:
		st.service = nil
		return fmt.Errorf("the example service exited during the run: %v", err)
	default:
	}
	_ = st.service.Process.Signal(syscall.SIGTERM)
	var err error
	select {
	case err = <-st.serviceDone:
	case <-time.After(60 * time.Second):
		_ = st.service.Process.Kill()
		err = errors.Join(errors.New("no exit within 60 s of SIGTERM"), <-st.serviceDone)
	}
	st.service = nil
	if err != nil {
		return fmt.Errorf("example service after SIGTERM: %w", err)
	}
	return nil
}

// stop stops the processes and removes the resources (best effort; the
// emulator is stopped after the run anyway).
func (st *stack) stop() error {
	var errs []error
	if err := st.stopService(); err != nil {
		errs = append(errs, err)
	}
	for _, p := range []**exec.Cmd{&st.twilio, &st.floor} {
		if *p != nil && (*p).Process != nil {
			_ = (*p).Process.Signal(syscall.SIGTERM)
			_ = (*p).Wait()
			*p = nil
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, q := range []string{st.auditQueue, st.smsQueue} {
		if q != "" {
			_, _ = st.sqs.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(q)})
		}
	}
	if st.table != "" {
		_, _ = st.ddb.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(st.table)})
	}
	for _, s := range []string{st.keys, st.twilioSec} {
		if s != "" {
			_, _ = st.sm.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String(s), ForceDeleteWithoutRecovery: aws.Bool(true)})
		}
	}
	st.auditQueue, st.smsQueue, st.table, st.keys, st.twilioSec = "", "", "", "", ""
	for _, f := range st.logs {
		_ = f.Close()
	}
	st.logs = nil
	return errors.Join(errs...)
}

// processCPU is the CPU time pid's threads have used so far (Linux
// schedstat, nanoseconds), or 0 where the system does not say.
func processCPU(pid int) time.Duration {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return 0
	}
	var sum time.Duration
	for _, t := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/schedstat", pid, t.Name()))
		if f := strings.Fields(string(b)); err == nil && len(f) > 0 {
			if ns, err := strconv.ParseInt(f[0], 10, 64); err == nil {
				sum += time.Duration(ns)
			}
		}
	}
	return sum
}

// loadAverage is the 1-, 5- and 15-minute load average where the system
// says (Linux), else "n/a".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "n/a"
}

func waitFor(ctx context.Context, ok func() bool) error {
	deadline := time.Now().Add(60 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			return errors.New("timed out after 60 s")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return nil
}
