package localrt

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/offload/offload/internal/localrt/internal/behave"
	"github.com/offload/offload/pkg/logging/loggingtest"
)

// fixtureRecord is one invoke as the behave fixture recorded it.
type fixtureRecord = behave.Record

func readRecords(t testing.TB, path string) []fixtureRecord {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(t, err)
	var out []fixtureRecord
	// Only whole lines: the fixture may be writing the last one (a 6 MB
	// event is not written in one go).
	whole := string(b[:bytes.LastIndexByte(b, '\n')+1])
	for _, line := range strings.Split(strings.TrimSpace(whole), "\n") {
		if line == "" {
			continue
		}
		var r fixtureRecord
		require.NoError(t, json.Unmarshal([]byte(line), &r), line)
		out = append(out, r)
	}
	return out
}

// testPool returns a pool running the behave fixture in mode, recording to a
// file it also returns, with its logs.
func testPool(t *testing.T, mode string, timeout time.Duration, extraEnv map[string]string) (*pool, string, *loggingtest.Buffer) {
	t.Helper()
	record := filepath.Join(t.TempDir(), "record.jsonl")
	env := map[string]string{"FIXTURE_MODE": mode, "FIXTURE_RECORD": record}
	for k, v := range extraEnv {
		env[k] = v
	}
	logs := &loggingtest.Buffer{}
	cfg := Config{Region: "eu-west-1", Endpoint: "http://127.0.0.1:1", BinDir: fixtureBin, Logs: logs, TraceDaemonAddress: "127.0.0.1:2000"}.withDefaults()
	fn := Function{Name: "unit-" + mode, ARN: "arn:aws:lambda:eu-west-1:123456789012:function:unit-" + mode, Folder: "behave",
		Handler: "bootstrap", Timeout: timeout, MemoryMB: 256, Env: env}
	p := newPool(fn, cfg, &logSink{w: logs})
	t.Cleanup(p.close)
	return p, record, logs
}

func processGone(pid int) bool {
	return syscall.Kill(pid, 0) == syscall.ESRCH
}

func TestInvokeColdStartThenWarm(t *testing.T) {
	t.Parallel()
	p, record, logs := testPool(t, "succeed", 3*time.Second, nil)
	ctx := context.Background()

	first, err := p.invoke(ctx, []byte(`{"n":1}`), "")
	require.NoError(t, err)
	require.Nil(t, first.Err)
	require.Positive(t, first.InitDuration, "a cold start reports its init duration")
	require.JSONEq(t, `{"batchItemFailures":null}`, string(first.Payload))

	second, err := p.invoke(ctx, []byte(`{"n":2}`), "")
	require.NoError(t, err)
	require.Nil(t, second.Err)
	require.Zero(t, second.InitDuration, "a warm invoke has no init")

	recs := readRecords(t, record)
	require.Len(t, recs, 2)
	require.Equal(t, recs[0].PID, recs[1].PID, "the warm invoke reuses the environment")
	require.JSONEq(t, `{"n":2}`, string(recs[1].Event))
	require.Equal(t, first.RequestID, recs[0].RequestID)
	require.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, first.RequestID)

	out := logs.String()
	require.Contains(t, out, "[behave] START RequestId: "+first.RequestID+" Version: $LATEST\n")
	require.Contains(t, out, "[behave] END RequestId: "+first.RequestID+"\n")
	report := regexp.MustCompile(`(?m)^\[behave\] REPORT RequestId: (\S+)\tDuration: [0-9.]+ ms\tBilled Duration: \d+ ms\tMemory Size: 256 MB\tMax Memory Used: \d+ MB(\tInit Duration: [0-9.]+ ms)?$`)
	m := report.FindAllStringSubmatch(out, -1)
	require.Len(t, m, 2, out)
	require.Equal(t, first.RequestID, m[0][1])
	require.NotEmpty(t, m[0][2], "cold REPORT carries Init Duration")
	require.Empty(t, m[1][2], "warm REPORT has no Init Duration")
}

func TestInvokeGivesTheLambdaEnvironment(t *testing.T) {
	t.Parallel()
	p, record, _ := testPool(t, "env", 2*time.Second, map[string]string{"AUDIT_TABLE_NAME": "t1", "AWS_REGION": "overridden-by-lambda"})
	trace := "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
	before := time.Now()
	res, err := p.invoke(context.Background(), []byte(`{}`), trace)
	require.NoError(t, err)
	require.Nil(t, res.Err)

	var env map[string]string
	require.NoError(t, json.Unmarshal(res.Payload, &env))
	require.Equal(t, "unit-env", env["AWS_LAMBDA_FUNCTION_NAME"])
	require.Equal(t, "$LATEST", env["AWS_LAMBDA_FUNCTION_VERSION"])
	require.Equal(t, "256", env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"])
	require.Equal(t, "/aws/lambda/unit-env", env["AWS_LAMBDA_LOG_GROUP_NAME"])
	require.Regexp(t, `^127\.0\.0\.1:\d+$`, env["AWS_LAMBDA_RUNTIME_API"])
	require.Equal(t, "bootstrap", env["_HANDLER"])
	require.Equal(t, filepath.Join(fixtureBin, "behave"), env["LAMBDA_TASK_ROOT"])
	require.Equal(t, "http://127.0.0.1:1", env["AWS_ENDPOINT_URL"])
	require.Equal(t, "eu-west-1", env["AWS_REGION"], "reserved variables override deployed ones")
	require.Equal(t, "test", env["AWS_ACCESS_KEY_ID"])
	require.Equal(t, "127.0.0.1:2000", env["AWS_XRAY_DAEMON_ADDRESS"])
	require.Equal(t, trace, env["_X_AMZN_TRACE_ID"], "aws-lambda-go sets the trace id from Lambda-Runtime-Trace-Id")

	recs := readRecords(t, record)
	require.Len(t, recs, 1)
	require.Equal(t, trace, recs[0].TraceID)
	require.Equal(t, "t1", recs[0].Env["AUDIT_TABLE_NAME"], "the deployed environment reaches the function")
	require.NotContains(t, recs[0].Env, "HOME", "the host environment does not leak in")
	deadline := time.UnixMilli(recs[0].Deadline)
	require.WithinDuration(t, before.Add(2*time.Second), deadline, time.Second, "deadline = delivery + timeout")
}

func TestInvokeFunctionErrorKeepsTheEnvironment(t *testing.T) {
	t.Parallel()
	p, record, _ := testPool(t, "error", 2*time.Second, nil)
	for range 2 {
		res, err := p.invoke(context.Background(), []byte(`{}`), "")
		require.NoError(t, err)
		require.NotNil(t, res.Err)
		require.Equal(t, "errorString", res.Err.Type)
		require.Equal(t, "fixture error", res.Err.Message)
	}
	recs := readRecords(t, record)
	require.Len(t, recs, 2)
	require.Equal(t, recs[0].PID, recs[1].PID, "a handled error does not end the environment")
}

func TestInvokeTimeoutKillsTheProcessAndNextInvokeColdStarts(t *testing.T) {
	t.Parallel()
	p, record, logs := testPool(t, "sleep", time.Second, map[string]string{"FIXTURE_SLEEP_MS": "30000"})
	start := time.Now()
	res, err := p.invoke(context.Background(), []byte(`{}`), "")
	require.NoError(t, err)
	require.NotNil(t, res.Err)
	require.Equal(t, "Sandbox.Timedout", res.Err.Type)
	require.Equal(t, "Task timed out after 1.00 seconds", res.Err.Message)
	require.Less(t, time.Since(start), 5*time.Second)
	require.GreaterOrEqual(t, res.Duration, 950*time.Millisecond)
	require.Contains(t, logs.String(), res.RequestID+" Task timed out after 1.00 seconds")
	require.Regexp(t, `REPORT RequestId: `+res.RequestID+`\t.*\tStatus: timeout`, logs.String())

	// The stuck process noted its arrival only, and is gone.
	arrived := readRecords(t, record)
	require.Len(t, arrived, 1)
	require.Zero(t, arrived[0].End, "killed before it could answer")
	require.Eventually(t, func() bool { return processGone(arrived[0].PID) }, 5*time.Second, 20*time.Millisecond, "the timed-out process was killed")
	p.mu.Lock()
	require.Empty(t, p.envs, "a timed-out environment is discarded")
	p.mu.Unlock()

	// The next invoke is a cold start in a new process.
	p.fn.Env["FIXTURE_MODE"] = "succeed"
	p.fn.Env["FIXTURE_SLEEP_MS"] = "0"
	next, err := p.invoke(context.Background(), []byte(`{}`), "")
	require.NoError(t, err)
	require.Nil(t, next.Err)
	require.Positive(t, next.InitDuration)
	recs := readRecords(t, record)
	require.Len(t, recs, 2)
	require.NotEqual(t, arrived[0].PID, recs[1].PID, "a new process")
}

func TestInvokeCrashIsRuntimeExitError(t *testing.T) {
	t.Parallel()
	p, record, _ := testPool(t, "crash", 2*time.Second, nil)
	res, err := p.invoke(context.Background(), []byte(`{}`), "")
	require.NoError(t, err)
	require.NotNil(t, res.Err)
	require.Equal(t, "Runtime.ExitError", res.Err.Type)
	require.Contains(t, res.Err.Message, "exit status 3")
	recs := readRecords(t, record)
	require.Len(t, recs, 1)
	require.True(t, processGone(recs[0].PID))
}

func TestMissingBootstrapIsAnInvokeError(t *testing.T) {
	t.Parallel()
	logs := &loggingtest.Buffer{}
	cfg := Config{Region: "us-east-1", BinDir: t.TempDir(), Logs: logs}.withDefaults()
	p := newPool(Function{Name: "nope", Folder: "nope", Timeout: time.Second, MemoryMB: 128}, cfg, &logSink{w: logs})
	t.Cleanup(p.close)
	res, err := p.invoke(context.Background(), []byte(`{}`), "")
	require.NoError(t, err)
	require.NotNil(t, res.Err)
	require.Equal(t, "Runtime.InvalidEntrypoint", res.Err.Type)
}

func TestCloseLeavesNoProcess(t *testing.T) {
	t.Parallel()
	p, record, _ := testPool(t, "succeed", 2*time.Second, nil)
	_, err := p.invoke(context.Background(), []byte(`{}`), "")
	require.NoError(t, err)
	recs := readRecords(t, record)
	require.Len(t, recs, 1)
	require.False(t, processGone(recs[0].PID))
	p.close()
	require.True(t, processGone(recs[0].PID), "close ends every bootstrap")
	_, err = p.invoke(context.Background(), []byte(`{}`), "")
	require.Error(t, err, "a closed pool runs nothing")
}

func TestPoolRunsConcurrentInvokesInSeparateEnvironments(t *testing.T) {
	t.Parallel()
	p, record, _ := testPool(t, "succeed", 3*time.Second, map[string]string{"FIXTURE_SLEEP_MS": "300"})
	done := make(chan struct{})
	for range 3 {
		go func() {
			defer func() { done <- struct{}{} }()
			res, err := p.invoke(context.Background(), []byte(`{}`), "")
			if err == nil && res.Err != nil {
				t.Errorf("invoke: %v", res.Err)
			}
		}()
	}
	for range 3 {
		<-done
	}
	pids := map[int]bool{}
	for _, r := range readRecords(t, record) {
		pids[r.PID] = true
	}
	require.Len(t, pids, 3, "three overlapping invokes need three environments")
}

func TestMeasureInitColdStartsEachTime(t *testing.T) {
	t.Parallel()
	cfg := Config{Region: "us-east-1", BinDir: fixtureBin}
	fn := Function{Name: "hello", Folder: "hello", Timeout: time.Second, MemoryMB: 128}
	ds, err := MeasureInit(context.Background(), cfg, fn, 3)
	require.NoError(t, err)
	require.Len(t, ds, 3)
	for _, d := range ds {
		require.Positive(t, d)
		require.Less(t, d, 5*time.Second)
	}
	require.Equal(t, 2*time.Millisecond, Median([]time.Duration{3 * time.Millisecond, time.Millisecond, 2 * time.Millisecond}))

	_, err = MeasureInit(context.Background(), Config{Region: "us-east-1", BinDir: t.TempDir()}, fn, 1)
	require.Error(t, err, "a missing bootstrap is an error")
}
