//go:build integration

package localrt

// Conformance tests for Lambda's execution limits (issue 14): freezing idle
// environments, batching windows beyond one long poll and the 6 MB event
// cap, reserved concurrency, the memory limit, the init limit, and several
// invokes at once in one environment (AWS_LAMBDA_MAX_CONCURRENCY).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/stretchr/testify/require"
)

// limitOpts are the function settings the limits tests vary beyond mappingOpts.
type limitOpts struct {
	env      map[string]string // added to the behave fixture's environment
	memoryMB int32             // default 128
	reserved *int32            // reserved concurrency; nil: none
	noMap    bool              // no event source mapping (invoked directly)
	cfg      Config            // runtime settings (Functions, AlarmPeriod set here)
	// beforeStart runs once everything is deployed, before the runtime starts.
	beforeStart func(f *fixture)
}

// newLimitsFixture is newFixture with limitOpts: a queue, a behave function
// with the given memory, environment and reserved concurrency, a disabled
// mapping unless noMap, and the runtime started on them.
func newLimitsFixture(t *testing.T, o mappingOpts, lo limitOpts) *fixture {
	t.Helper()
	ctx := context.Background()
	f := newBaseFixture(t, "lrt")
	cfg := f.cfg
	f.fnName = f.name + "-fn"
	o.defaults()
	if lo.memoryMB == 0 {
		lo.memoryMB = 128
	}
	f.queueURL, f.queueARN = createQueue(t, f.sqs, f.name, map[string]string{"VisibilityTimeout": strconv.Itoa(o.visibility)})
	env := map[string]string{"FIXTURE_MODE": o.mode, "FIXTURE_RECORD": f.record, "FIXTURE_SLEEP_MS": strconv.Itoa(o.sleepMS)}
	maps.Copy(env, lo.env)
	deployFunction(t, cfg, functionSpec{name: f.fnName, folder: "behave", timeout: o.timeout, memoryMB: lo.memoryMB, env: env})
	lc := lambda.NewFromConfig(cfg)
	if lo.reserved != nil {
		_, err := lc.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String(f.fnName), ReservedConcurrentExecutions: lo.reserved})
		require.NoError(t, err)
	}
	if !lo.noMap {
		createMapping(t, lc, f, o)
	}
	if lo.beforeStart != nil {
		lo.beforeStart(f)
	}
	rc := lo.cfg
	rc.Functions = []string{f.fnName}
	rc.AlarmPeriod = -1
	f.start(rc)
	return f
}

// createUniqueFunction creates a function whose name is unique to the test.
// On a busy machine the emulator sometimes loses a response the SDK then
// retries (seen as "Function already exist" for a name no one else uses):
// the conflict is this test's own first attempt, so it is the function.
func createUniqueFunction(ctx context.Context, lc *lambda.Client, in *lambda.CreateFunctionInput) (string, error) {
	out, err := lc.CreateFunction(ctx, in)
	var conflict *lambdatypes.ResourceConflictException
	if errors.As(err, &conflict) {
		got, gerr := lc.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: in.FunctionName})
		if gerr != nil {
			return "", errors.Join(err, gerr)
		}
		return aws.ToString(got.Configuration.FunctionArn), nil
	}
	if err != nil {
		return "", err
	}
	return aws.ToString(out.FunctionArn), nil
}

// afterLines reads the work the fixture scheduled after returning
// (FIXTURE_AFTER_MS): the request ids it ran for, in order.
func (f *fixture) afterLines() []string {
	b, err := os.ReadFile(f.record + ".after")
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(f.t, err)
	// The fixture may have created the file and not yet written its line, or
	// be writing it: only complete lines count.
	text := string(b)
	if i := strings.LastIndexByte(text, '\n'); i >= 0 {
		text = text[:i]
	} else {
		text = ""
	}
	var ids []string
	for _, line := range strings.Split(text, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		var v struct{ RequestID string }
		require.NoError(f.t, json.Unmarshal([]byte(line), &v), line)
		ids = append(ids, v.RequestID)
	}
	return ids
}

func (f *fixture) invoke(payload string) Result {
	f.t.Helper()
	res, err := f.rt.Invoke(context.Background(), f.fnName, []byte(payload), "")
	require.NoError(f.t, err)
	return res
}

// Lambda freezes the environment once the runtime asks for the next event
// with none pending: work a function leaves behind (a buffered sender's
// background flush) does not run until the next invoke thaws it.
func TestConformanceIdleEnvironmentIsFrozenUntilTheNextInvoke(t *testing.T) {
	t.Parallel()
	f := newLimitsFixture(t, mappingOpts{mode: "succeed"}, limitOpts{noMap: true, env: map[string]string{"FIXTURE_AFTER_MS": "200"}})
	first := f.invoke(`{"n":1}`)
	require.Nil(t, first.Err)
	pid := f.invokes()[0].PID
	eventually(t, 10*time.Second, func() bool { return processState(pid) == "T" }, "the idle environment is stopped (state T)")
	// Five times the 200 ms: a running process would have done the work by now.
	time.Sleep(time.Second)
	require.Empty(t, f.afterLines(), "nothing runs while the environment is frozen")
	require.Equal(t, "T", processState(pid), "still frozen")

	second := f.invoke(`{"n":2}`)
	require.Nil(t, second.Err)
	require.Equal(t, pid, f.invokes()[1].PID, "a warm invoke thaws the same environment")
	// Thawed, the leftover work runs while the environment is running: during
	// this invoke or, when the invoke is over first (it is quick) and the
	// environment frozen again, during a later one. Invoke until it has.
	invokes := 2
	eventually(t, 20*time.Second, func() bool {
		if slices.Contains(f.afterLines(), first.RequestID) {
			return true
		}
		require.Nil(t, f.invoke(`{}`).Err)
		invokes++
		return false
	}, "the first invoke's leftover work runs once thawed")
	eventually(t, 10*time.Second, func() bool { return processState(pid) == "T" }, "frozen again")
	done := len(f.afterLines())
	time.Sleep(time.Second)
	require.Len(t, f.afterLines(), done, "nothing runs while frozen")
	require.Less(t, done, invokes, "the last invoke's leftover work waits for the next invoke")
}

// Lambda invokes with at most 6 MB of event ("up to the payload limit for
// synchronous invocation (6 MB)"); the messages beyond wait for the next batch.
func TestConformanceBatchEventNeverExceedsSixMB(t *testing.T) {
	t.Parallel()
	body := strings.Repeat("x", 250<<10) // 250 KiB: SQS's classic maximum is 256 KiB
	const n = 30                         // 7.3 MiB of bodies, all queued before the runtime polls
	f := newLimitsFixture(t, mappingOpts{mode: "succeed", batchSize: 100, window: 3, visibility: 60}, limitOpts{
		beforeStart: func(f *fixture) {
			for i := range n {
				f.send(fmt.Sprintf("%02d:%s", i, body))
			}
		},
	})
	eventually(t, 60*time.Second, func() bool { return len(f.deliveries()) >= n }, "every message delivered")
	invs := f.invokes()
	require.GreaterOrEqual(t, len(invs), 2, "more than 6 MB takes two invokes")
	seen := map[string]int{}
	for _, inv := range invs {
		require.LessOrEqual(t, len(inv.Event), 6<<20, "an event is at most 6 MB")
		var ev events.SQSEvent
		require.NoError(t, json.Unmarshal(inv.Event, &ev))
		for _, r := range ev.Records {
			seen[r.Body[:2]]++
			require.Equal(t, "1", r.Attributes["ApproximateReceiveCount"], "a message beyond 6 MB is carried to the next batch, not received again")
		}
	}
	require.Len(t, seen, n)
	f.waitQueueEmpty(10 * time.Second)
}

// A batching window longer than SQS's 20 s long poll gathers across several
// receives (each WaitTimeSeconds ≤ 20) and invokes once, when it ends.
func TestConformanceBatchingWindowBeyondOneLongPoll(t *testing.T) {
	t.Parallel()
	f := newLimitsFixture(t, mappingOpts{mode: "succeed", batchSize: 100, window: 25, visibility: 120}, limitOpts{})
	sent := time.Now()
	f.send("long-1")
	eventually(t, 10*time.Second, func() bool {
		v, n := f.visibleAndInFlight(f.queueURL)
		return v == 0 && n == 1
	}, "the first message is received and the window opens")
	f.send("long-2")
	eventually(t, 60*time.Second, func() bool { return len(f.deliveries()) >= 2 }, "both delivered")
	invs := f.invokes()
	require.Len(t, invs, 1, "one invoke carries both")
	require.GreaterOrEqual(t, time.Unix(0, invs[0].Start).Sub(sent), 24*time.Second, "the 25 s window is waited out")
}

// Reserved concurrency caps the function; a mapping allowed more
// (maximum concurrency above it) is throttled: the batch is not invoked and
// not deleted, it returns after the visibility timeout with a higher
// receive count.
func TestConformanceReservedConcurrencyThrottlesTheMapping(t *testing.T) {
	t.Parallel()
	f := newLimitsFixture(t, mappingOpts{mode: "succeed", sleepMS: 1500, batchSize: 1, maxConcurrency: 3, visibility: 2},
		limitOpts{reserved: aws.Int32(1)})
	for i := range 4 {
		f.send(fmt.Sprintf("r%d", i))
	}
	eventually(t, 60*time.Second, func() bool {
		ids := map[string]bool{}
		for _, d := range f.deliveries() {
			ids[d.id] = true
		}
		return len(ids) == 4
	}, "every message delivered in the end")
	f.waitQueueEmpty(20 * time.Second)
	require.Contains(t, f.logs.String(), "throttled")

	firstCount := map[string]string{}
	for _, d := range f.deliveries() {
		if _, ok := firstCount[d.id]; !ok {
			firstCount[d.id] = d.count
		}
	}
	throttled := 0
	for _, c := range firstCount {
		if c != "1" {
			throttled++ // received and returned before it ever reached the function
		}
	}
	require.Positive(t, throttled, "a throttled batch returns to the queue and its receive count rises: %v", firstCount)

	require.Equal(t, 1, peakOverlap(f.invokes()), "never more invokes at once than the reserved concurrency")
}

// Reserved concurrency 0 throttles every invoke.
func TestConformanceReservedConcurrencyZeroThrottlesEveryInvoke(t *testing.T) {
	t.Parallel()
	f := newLimitsFixture(t, mappingOpts{mode: "succeed"}, limitOpts{noMap: true, reserved: aws.Int32(0)})
	_, err := f.rt.Invoke(context.Background(), f.fnName, []byte(`{}`), "")
	require.ErrorIs(t, err, ErrThrottled)
	require.Empty(t, f.invokes())
}

// An invoke whose memory passes the function's memory size ends as
// Runtime.OutOfMemory, and the environment is discarded.
func TestConformanceMemoryAboveMemorySizeIsOutOfMemory(t *testing.T) {
	t.Parallel()
	f := newLimitsFixture(t, mappingOpts{mode: "succeed", timeout: 10}, limitOpts{noMap: true, memoryMB: 128, env: map[string]string{"FIXTURE_ALLOC_MB": "200"}})
	res := f.invoke(`{}`)
	require.NotNil(t, res.Err, "allocating 200 MB in 128 MB fails")
	require.Equal(t, "Runtime.OutOfMemory", res.Err.Type)
	require.Regexp(t, `REPORT RequestId: `+res.RequestID+`\t.*\tStatus: error\tError Type: Runtime.OutOfMemory`, f.logs.String())
}

// Init is limited to 10 s (scaled here): a timed-out init is retried at the
// first invoke, and the retry counts against that invoke's timeout.
func TestConformanceInitTimeoutIsRetriedAtTheFirstInvoke(t *testing.T) {
	t.Parallel()
	// initSleeping invokes, once, a function whose init sleeps sleepMS
	// against a 1 s init timeout.
	initSleeping := func(t *testing.T, timeout int32, sleepMS string) (*fixture, Result) {
		f := newLimitsFixture(t, mappingOpts{mode: "succeed", timeout: timeout}, limitOpts{noMap: true,
			env: map[string]string{"FIXTURE_INIT_SLEEP_MS": sleepMS}, cfg: Config{InitTimeout: time.Second}})
		return f, f.invoke(`{}`)
	}
	t.Run("the retry succeeds within the function timeout", func(t *testing.T) {
		t.Parallel()
		f, res := initSleeping(t, 5, "1500")
		require.Nil(t, res.Err)
		require.Contains(t, f.logs.String(), "INIT_REPORT Init Duration: ", "the first init is reported")
		require.Contains(t, f.logs.String(), "\tPhase: init\tStatus: timeout")
		rec := f.invokes()[0]
		// The retried init slept 1.5 s of the invoke's 5 s.
		left := time.UnixMilli(rec.Deadline).Sub(time.Unix(0, rec.Start))
		require.LessOrEqual(t, left, 3500*time.Millisecond+5*time.Millisecond, "the retried init counts against the invoke's timeout")
	})
	t.Run("a retry beyond the function timeout fails the invoke", func(t *testing.T) {
		t.Parallel()
		f, res := initSleeping(t, 2, "60000")
		require.NotNil(t, res.Err)
		require.Equal(t, "Sandbox.Timedout", res.Err.Type)
		require.Contains(t, f.logs.String(), "\tPhase: invoke\tStatus: timeout")
		require.Empty(t, f.invokes())
	})
}

// With AWS_LAMBDA_MAX_CONCURRENCY one environment serves several invokes at
// once (aws-lambda-go runs that many invoke loops); each invoke sees its own
// request id and trace id.
func TestConformanceMaxConcurrencyServesSeveralInvokesInOneEnvironment(t *testing.T) {
	t.Parallel()
	const n = 4
	t.Run("set by the function", func(t *testing.T) {
		t.Parallel()
		// Each invoke waits until all n are in the same process: they only
		// succeed if one environment holds them at once.
		checkConcurrentInvokes(t, n, newLimitsFixture(t, mappingOpts{mode: "succeed", timeout: 20}, limitOpts{noMap: true,
			env: map[string]string{"AWS_LAMBDA_MAX_CONCURRENCY": strconv.Itoa(n), "FIXTURE_BARRIER": strconv.Itoa(n)}}))
	})
	t.Run("set by the runtime (Config.EnvironmentConcurrency)", func(t *testing.T) {
		t.Parallel()
		checkConcurrentInvokes(t, n, newLimitsFixture(t, mappingOpts{mode: "succeed", timeout: 20}, limitOpts{noMap: true,
			env: map[string]string{"FIXTURE_BARRIER": strconv.Itoa(n)}, cfg: Config{EnvironmentConcurrency: n}}))
	})
}

// checkConcurrentInvokes runs n invokes at once and checks that one
// environment served them, each with its own request and trace id.
func checkConcurrentInvokes(t *testing.T, n int, f *fixture) {
	t.Helper()
	results := make(chan Result, n)
	traces := make([]string, n)
	for i := range n {
		traces[i] = newTraceHeader()
	}
	for i := range n {
		go func() {
			res, err := f.rt.Invoke(context.Background(), f.fnName, fmt.Appendf(nil, `{"i":%d}`, i), traces[i])
			if err != nil {
				res.Err = &FunctionError{Type: "invoke", Message: err.Error()}
			}
			results <- res
		}()
	}
	byRequest := map[string]bool{}
	for range n {
		res := <-results
		require.Nil(t, res.Err)
		byRequest[res.RequestID] = true
	}
	recs := f.invokes()
	require.Len(t, recs, n)
	pids := map[int]bool{}
	for _, r := range recs {
		pids[r.PID] = true
		require.True(t, byRequest[r.RequestID], "the function saw the request id of its own invoke")
		var ev struct{ I int }
		require.NoError(t, json.Unmarshal(r.Event, &ev))
		require.Equal(t, traces[ev.I], r.TraceID, "each invoke carries its own trace id")
		require.Equal(t, strconv.Itoa(n), r.Env["AWS_LAMBDA_MAX_CONCURRENCY"])
		require.Empty(t, r.Env["_X_AMZN_TRACE_ID"], "aws-lambda-go does not set _X_AMZN_TRACE_ID with several invoke loops")
	}
	require.Len(t, pids, 1, "one environment served all of them")
}

// processState is the state letter of /proc/<pid>/stat (R, S, T, Z, …), or
// "" when it cannot be read (Linux only).
func processState(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	// pid (comm) state …: comm may hold spaces and parentheses.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 || i+2 >= len(b) {
		return ""
	}
	return string(b[i+2])
}
