package localrt

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-xray-sdk-go/v2/xray"
	"github.com/google/uuid"
)

// ErrThrottled is returned by an invoke beyond the function's reserved
// concurrency: Lambda throttles it (TooManyRequestsException) instead of
// queueing it.
var ErrThrottled = errors.New("TooManyRequestsException: Rate Exceeded (reserved concurrency reached)")

// pool holds one function's execution environments: one with room serves
// the next invoke (an environment takes one invoke at a time, or up to
// Function.MaxConcurrency), a new one cold-starts when none has room, up to
// MaxEnvironments at once. Invokes beyond the function's reserved
// concurrency are throttled.
type pool struct {
	fn   Function
	cfg  Config
	sink *logSink

	// slots bounds the invokes in flight: MaxEnvironments environments of
	// per-environment concurrency each. A caller waits for one.
	slots chan struct{}
	// reserved holds one token per invoke in flight when the function has
	// reserved concurrency; nil without. A caller that finds none is throttled.
	reserved chan struct{}

	mu sync.Mutex
	// envs are the environments, oldest first; the newest with room serves.
	envs   []*environment
	closed bool

	// active counts invokes in flight; peak is the highest it reached.
	active, peak int
}

func newPool(fn Function, cfg Config, sink *logSink) *pool {
	if n := cfg.EnvironmentConcurrency; n > 1 && fn.MaxConcurrency == 0 {
		// As Lambda Managed Instances set it for the runtime.
		fn.Env = maps.Clone(fn.Env)
		if fn.Env == nil {
			fn.Env = map[string]string{}
		}
		fn.Env["AWS_LAMBDA_MAX_CONCURRENCY"] = strconv.Itoa(n)
		fn.MaxConcurrency = n
	}
	p := &pool{
		fn: fn, cfg: cfg, sink: sink,
		slots: make(chan struct{}, cfg.MaxEnvironments*fn.concurrency()),
	}
	if fn.ReservedConcurrency != nil {
		p.reserved = make(chan struct{}, max(*fn.ReservedConcurrency, 0))
	}
	return p
}

// invoke runs payload in an environment with room, or a new one. It blocks
// while the function is at its environment limit, and returns ErrThrottled
// at once when the function's reserved concurrency is in use.
func (p *pool) invoke(ctx context.Context, payload []byte, traceID string) (Result, error) {
	if p.reserved != nil {
		select {
		case p.reserved <- struct{}{}:
			defer func() { <-p.reserved }()
		default:
			return Result{}, fmt.Errorf("invoke %s: %w", p.fn.Name, ErrThrottled)
		}
	}
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return Result{}, fmt.Errorf("invoke %s: %w", p.fn.Name, ctx.Err())
	}
	defer func() { <-p.slots }()

	env, err := p.acquire()
	if err != nil {
		return Result{}, err
	}
	inv := newInvocation(uuid.NewString(), payload, traceID, p.fn.ARN, p.fn.Timeout)
	res := env.invoke(ctx, inv)
	p.release(env)
	return res, nil
}

func (p *pool) acquire() (*environment, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, fmt.Errorf("invoke %s: runtime stopped", p.fn.Name)
	}
	p.active++
	p.peak = max(p.peak, p.active)
	p.envs = slices.DeleteFunc(p.envs, func(e *environment) bool { return e.busy == 0 && !e.alive() })
	for i := len(p.envs) - 1; i >= 0; i-- {
		if env := p.envs[i]; env.busy < p.fn.concurrency() && env.alive() {
			env.busy++
			return env, nil
		}
	}
	env := newEnvironment(p.fn, p.cfg, p.sink)
	env.busy = 1
	p.envs = append(p.envs, env)
	return env, nil
}

func (p *pool) release(env *environment) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.active--
	env.busy--
	if env.busy > 0 {
		return
	}
	if !env.alive() || p.closed {
		p.envs = slices.DeleteFunc(p.envs, func(e *environment) bool { return e == env })
		if p.closed {
			go env.shutdown(500 * time.Millisecond)
		}
		return
	}
	// Idle: move it to the end, so the most recently used serves next.
	p.envs = slices.DeleteFunc(p.envs, func(e *environment) bool { return e == env })
	p.envs = append(p.envs, env)
}

// close stops every environment and waits for their processes to exit.
func (p *pool) close() {
	p.mu.Lock()
	p.closed = true
	envs := slices.Clone(p.envs)
	p.mu.Unlock()
	var wg sync.WaitGroup
	for _, env := range envs {
		wg.Go(func() { env.shutdown(500 * time.Millisecond) })
	}
	wg.Wait()
}

// newTraceHeader returns an X-Ray trace header for a new, sampled trace, with
// the X-Ray SDK's ids: Root=1-<epoch seconds hex>-<96 random bits>;Parent=<64
// random bits>;Sampled=1.
func newTraceHeader() string {
	return "Root=" + xray.NewTraceID() + ";Parent=" + xray.NewSegmentID() + ";Sampled=1"
}
