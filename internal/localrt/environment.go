package localrt

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/google/uuid"
)

// Result is the outcome of one invoke.
type Result struct {
	// RequestID is the invoke's Lambda request id.
	RequestID string
	// Payload is the function's response on success.
	Payload []byte
	// Err is set when the invoke failed (function error, timeout, crash).
	Err *FunctionError
	// Duration is the invoke phase; InitDuration the cold start before it
	// (zero on a warm invoke).
	Duration, InitDuration time.Duration
}

// environment is one execution environment: a bootstrap process behind its
// own Runtime API. It serves one invoke at a time, or up to
// Function.MaxConcurrency at once (AWS_LAMBDA_MAX_CONCURRENCY).
type environment struct {
	fn     Function
	cfg    Config
	sink   *logSink
	prefix string

	api    *runtimeAPI
	cmd    *exec.Cmd
	stdout *lineWriter
	stderr *lineWriter

	startedAt time.Time
	exited    chan struct{}
	exitErr   error

	// initMu serialises the cold start: concurrent first invokes share it.
	initMu   sync.Mutex
	initDone bool

	mu   sync.Mutex
	dead bool
	// busy counts the invokes in the environment (the pool's bookkeeping).
	busy int
}

func newEnvironment(fn Function, cfg Config, sink *logSink) *environment {
	prefix := "[" + fn.Folder + "] "
	exited := make(chan struct{})
	close(exited) // no process yet
	return &environment{fn: fn, cfg: cfg, sink: sink, prefix: prefix, exited: exited}
}

// Bootstrap is the path of the executable the runtime starts for fn.
func Bootstrap(binDir string, fn Function) string {
	return filepath.Join(binDir, fn.Folder, "bootstrap")
}

// alive reports whether the environment can take another invoke.
func (e *environment) alive() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return !e.dead
}

func (e *environment) markDead() {
	e.mu.Lock()
	e.dead = true
	e.mu.Unlock()
}

// start launches the bootstrap process behind a new Runtime API server.
func (e *environment) start() error {
	api, err := newRuntimeAPI(e.fn, func(inv *invocation) {
		e.sink.line(e.prefix, fmt.Sprintf("START RequestId: %s Version: $LATEST", inv.requestID))
	})
	if err != nil {
		return err
	}
	e.api = api
	exited := make(chan struct{})
	e.exited = exited
	e.mu.Lock()
	e.dead = false
	e.mu.Unlock()
	path := Bootstrap(e.cfg.BinDir, e.fn)
	abs, err := filepath.Abs(path)
	if err != nil {
		api.close()
		return fmt.Errorf("resolve bootstrap %s: %w", path, err)
	}
	e.stdout = &lineWriter{sink: e.sink, prefix: e.prefix}
	e.stderr = &lineWriter{sink: e.sink, prefix: e.prefix}
	cmd := exec.Command(abs)
	cmd.Dir = filepath.Dir(abs)
	cmd.Env = e.environ(api.Addr(), filepath.Dir(abs))
	cmd.Stdout = e.stdout
	cmd.Stderr = e.stderr
	cmd.SysProcAttr = processAttrs()
	e.startedAt = time.Now()
	if err := cmd.Start(); err != nil {
		api.close()
		return fmt.Errorf("start bootstrap of %s (%s): %w", e.fn.Name, abs, err)
	}
	e.cmd = cmd
	pid := cmd.Process.Pid
	if e.fn.concurrency() == 1 {
		// Lambda Managed Instances (several invokes per environment) keep
		// their environments running: only single-concurrency ones freeze.
		api.freeze = func() { freezeGroup(pid) }
		api.thaw = func() { thawGroup(pid) }
	}
	go func() {
		e.exitErr = cmd.Wait()
		e.stdout.flush()
		e.stderr.flush()
		e.markDead()
		close(exited)
		api.close()
	}()
	return nil
}

// environ is the process environment Lambda gives a provided runtime, plus
// the emulator endpoint and test credentials. Deployed variables come first;
// the reserved ones below override them, as Lambda does not let a function
// set them.
func (e *environment) environ(apiAddr, taskRoot string) []string {
	env := map[string]string{}
	for k, v := range e.fn.Env {
		env[k] = v
	}
	set := func(k, v string) {
		if v != "" {
			env[k] = v
		}
	}
	set("PATH", "/usr/local/bin:/usr/bin:/bin:"+os.Getenv("PATH"))
	set("LANG", "en_US.UTF-8")
	set("TZ", ":UTC")
	set("AWS_REGION", e.cfg.Region)
	set("AWS_DEFAULT_REGION", e.cfg.Region)
	set("AWS_ACCESS_KEY_ID", e.cfg.AccessKeyID)
	set("AWS_SECRET_ACCESS_KEY", e.cfg.SecretAccessKey)
	set("AWS_SESSION_TOKEN", e.cfg.SessionToken)
	set("AWS_ENDPOINT_URL", e.cfg.Endpoint)
	set("AWS_LAMBDA_FUNCTION_NAME", e.fn.Name)
	set("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
	set("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", fmt.Sprint(e.fn.MemoryMB))
	set("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/"+e.fn.Name)
	set("AWS_LAMBDA_LOG_STREAM_NAME", time.Now().UTC().Format("2006/01/02")+"/[$LATEST]"+strings.ReplaceAll(uuid.NewString(), "-", ""))
	set("AWS_LAMBDA_RUNTIME_API", apiAddr)
	set("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")
	set("_HANDLER", e.fn.Handler)
	set("LAMBDA_TASK_ROOT", taskRoot)
	set("LAMBDA_RUNTIME_DIR", taskRoot)
	if addr := e.cfg.TraceDaemonAddress; addr != "" {
		set("AWS_XRAY_DAEMON_ADDRESS", addr)
		set("_AWS_XRAY_DAEMON_ADDRESS", addr[:max(strings.LastIndex(addr, ":"), 0)])
		set("_AWS_XRAY_DAEMON_PORT", addr[strings.LastIndex(addr, ":")+1:])
		set("AWS_XRAY_CONTEXT_MISSING", "LOG_ERROR")
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return out
}

// invoke runs one event: a cold start first when the environment has no
// process yet, then the invoke phase bounded by the function timeout.
func (e *environment) invoke(ctx context.Context, inv *invocation) Result {
	res := Result{RequestID: inv.requestID}
	initDuration, fe := e.coldStart(ctx, inv)
	if fe != nil {
		res.Err = fe
		return res
	}
	res.InitDuration = initDuration
	api, exited, cmd := e.api, e.exited, e.cmd

	select {
	case api.pending <- inv:
	case <-exited:
		res.Err = e.exitError(exited)
		return res
	case <-ctx.Done():
		res.Err = &FunctionError{Type: "Runtime.Cancelled", Message: ctx.Err().Error()}
		return res
	}
	deadline := <-inv.delivered
	begin := time.Now()
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	stopWatch := make(chan struct{})
	defer close(stopWatch)
	oom := e.watchMemory(cmd.Process.Pid, exited, stopWatch)

	status := ""
	select {
	case out := <-inv.result:
		res.Payload, res.Err = out.payload, out.err
	case <-timer.C:
		status = "timeout"
		res.Err = &FunctionError{Type: "Sandbox.Timedout", Message: fmt.Sprintf("Task timed out after %.2f seconds", e.fn.Timeout.Seconds())}
		e.sink.line(e.prefix, fmt.Sprintf("%s %s %s", time.Now().UTC().Format("2006-01-02T15:04:05.000Z"), inv.requestID, res.Err.Message))
	case mb := <-oom:
		status = "error"
		res.Err = outOfMemory(mb, e.fn.MemoryMB)
		e.sink.line(e.prefix, fmt.Sprintf("RequestId: %s Error: %s", inv.requestID, res.Err.Message))
	case <-exited:
		status = "error"
		res.Err = e.exitError(exited)
		e.sink.line(e.prefix, fmt.Sprintf("RequestId: %s Error: %s", inv.requestID, res.Err.Message))
	case <-ctx.Done():
		status = "error"
		res.Err = &FunctionError{Type: "Runtime.Cancelled", Message: ctx.Err().Error()}
	}
	res.Duration = time.Since(begin)
	mem := peakMemoryMB(cmd.Process.Pid)
	if status == "" && mem > int(e.fn.MemoryMB) {
		// The peak passed the limit between two samples: Lambda's cgroup
		// would have ended the invoke.
		status = "error"
		res.Payload, res.Err = nil, outOfMemory(mem, e.fn.MemoryMB)
		e.sink.line(e.prefix, fmt.Sprintf("RequestId: %s Error: %s", inv.requestID, res.Err.Message))
	}
	if status != "" {
		// Lambda discards an environment after a timeout, crash or
		// out-of-memory: the next invoke is a cold start.
		e.kill()
	}
	e.sink.line(e.prefix, "END RequestId: "+inv.requestID)
	report := reportLine(inv.requestID, res.Duration, res.InitDuration, e.fn.MemoryMB, mem, status)
	if res.Err != nil && res.Err.Type == "Runtime.OutOfMemory" {
		report += "\tError Type: Runtime.OutOfMemory"
	}
	e.sink.line(e.prefix, report)
	return res
}

// outOfMemory is the error of an invoke whose environment passed its memory size.
func outOfMemory(usedMB int, limitMB int32) *FunctionError {
	return &FunctionError{Type: "Runtime.OutOfMemory", Message: fmt.Sprintf("Runtime exited with error: signal: killed (max memory used %d MB of %d MB)", usedMB, limitMB)}
}

// memorySampleEvery is how often an invoke's resident memory is sampled.
const memorySampleEvery = 10 * time.Millisecond

// watchMemory samples the process's peak resident memory (VmHWM) until it
// exits or stop is closed (the returned channel is then never written);
// it sends the peak once it passes the function's memory size. Lambda
// enforces memory_size with a cgroup; sampling the high-water mark catches
// every peak, a sample late.
func (e *environment) watchMemory(pid int, exited, stop <-chan struct{}) <-chan int {
	out := make(chan int, 1)
	if peakMemoryMB(pid) < 0 {
		return out // not measurable here
	}
	go func() {
		t := time.NewTicker(memorySampleEvery)
		defer t.Stop()
		for {
			select {
			case <-exited:
				return
			case <-stop:
				return
			case <-t.C:
			}
			if mb := peakMemoryMB(pid); mb > int(e.fn.MemoryMB) {
				out <- mb
				return
			}
		}
	}()
	return out
}

// coldStart starts the process and waits for init when the environment has
// none yet; concurrent first invokes wait for the same init. It returns the
// init duration (zero when the environment was warm). An init that passes
// the 10 s limit is retried once at this first invoke, as Lambda does, and
// the retry counts against the invoke's timeout (inv.deadline).
func (e *environment) coldStart(ctx context.Context, inv *invocation) (time.Duration, *FunctionError) {
	e.initMu.Lock()
	defer e.initMu.Unlock()
	if e.initDone {
		if !e.alive() {
			return 0, e.exitError(e.exited)
		}
		return 0, nil
	}
	e.initDone = true
	if err := e.start(); err != nil {
		e.markDead()
		fe := &FunctionError{Type: "Runtime.InvalidEntrypoint", Message: err.Error()}
		e.sink.line(e.prefix, fmt.Sprintf("INIT_REPORT Init Duration: 0.00 ms\tPhase: init\tStatus: error\tError Type: %s", fe.Type))
		return 0, fe
	}
	fe := e.awaitInit(ctx, e.cfg.InitTimeout, "init")
	if fe != nil && fe.Type == "Sandbox.Timedout" && e.cfg.InitTimeout < e.fn.Timeout {
		// Lambda retries a timed-out init at the first invoke, bounded by the
		// function timeout, which the invoke then continues to count.
		retryAt := time.Now()
		inv.deadline = retryAt.Add(inv.timeout)
		if err := e.start(); err != nil {
			e.markDead()
			return 0, &FunctionError{Type: "Runtime.InvalidEntrypoint", Message: err.Error()}
		}
		fe = e.awaitInit(ctx, inv.timeout, "invoke")
		if fe != nil {
			return 0, fe
		}
		return e.api.readyAt.Sub(e.startedAt), nil
	}
	if fe != nil {
		return 0, fe
	}
	return e.api.readyAt.Sub(e.startedAt), nil
}

// awaitInit waits up to limit for the runtime's first /next call: the end
// of init. phase names the phase in the INIT_REPORT line of a failure
// ("init", or "invoke" for an init retried at the first invoke).
func (e *environment) awaitInit(ctx context.Context, limit time.Duration, phase string) *FunctionError {
	timer := time.NewTimer(limit)
	defer timer.Stop()
	var fe *FunctionError
	status := "error"
	exited := e.exited
	select {
	case <-e.api.ready:
		return nil
	case fe = <-e.api.initErr:
		<-time.After(50 * time.Millisecond) // let it exit by itself, as Lambda would
	case <-exited:
		fe = e.exitError(exited)
	case <-timer.C:
		status = "timeout"
		fe = &FunctionError{Type: "Sandbox.Timedout", Message: fmt.Sprintf("init timed out after %.2f seconds", limit.Seconds())}
	case <-ctx.Done():
		fe = &FunctionError{Type: "Runtime.Cancelled", Message: ctx.Err().Error()}
	}
	e.kill()
	e.sink.line(e.prefix, fmt.Sprintf("INIT_REPORT Init Duration: %.2f ms\tPhase: %s\tStatus: %s\tError Type: %s",
		float64(time.Since(e.startedAt))/float64(time.Millisecond), phase, status, fe.Type))
	return fe
}

func (e *environment) exitError(exited <-chan struct{}) *FunctionError {
	<-exited
	msg := "Runtime exited without providing a reason"
	var ee *exec.ExitError
	if errors.As(e.exitErr, &ee) {
		msg = "Runtime exited with error: " + ee.ProcessState.String()
	} else if e.exitErr != nil {
		msg = "Runtime exited with error: " + e.exitErr.Error()
	}
	return &FunctionError{Type: "Runtime.ExitError", Message: msg}
}

// kill ends the process group at once (Lambda's SIGKILL) and waits for it.
func (e *environment) kill() {
	e.markDead()
	if e.cmd == nil || e.cmd.Process == nil {
		return
	}
	// SIGKILL ends stopped (frozen) processes too.
	_ = syscall.Kill(-e.cmd.Process.Pid, syscall.SIGKILL)
	<-e.exited
}

// shutdown stops the environment as Lambda does when it spins one down:
// SIGTERM first when an extension registered (WithEnableSIGTERM), then SIGKILL.
func (e *environment) shutdown(grace time.Duration) {
	e.markDead()
	if e.cmd == nil || e.cmd.Process == nil {
		return
	}
	if e.api.hasExtensions() {
		e.api.close()
		// A frozen environment is thawed to receive the signal.
		_ = syscall.Kill(-e.cmd.Process.Pid, syscall.SIGTERM)
		thawGroup(e.cmd.Process.Pid)
		select {
		case <-e.exited:
			return
		case <-time.After(grace):
		}
	}
	e.kill()
}
