package localrt

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"
	"time"
)

// pool holds one function's execution environments: an idle one serves the
// next invoke, a new one cold-starts when none is idle, up to max at once.
type pool struct {
	fn   Function
	cfg  Config
	sink *logSink

	slots chan struct{}

	mu     sync.Mutex
	idle   []*environment
	all    map[*environment]struct{}
	closed bool

	// active counts invokes in flight; peak is the highest it reached.
	active, peak int
}

func newPool(fn Function, cfg Config, sink *logSink) *pool {
	return &pool{
		fn: fn, cfg: cfg, sink: sink,
		slots: make(chan struct{}, cfg.MaxEnvironments),
		all:   map[*environment]struct{}{},
	}
}

// invoke runs payload in an idle environment, or a new one. It blocks while
// the function is at its environment limit.
func (p *pool) invoke(ctx context.Context, payload []byte, traceID string) (Result, error) {
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
	inv := newInvocation(newRequestID(), payload, traceID, p.fn.ARN, p.fn.Timeout)
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
	for len(p.idle) > 0 {
		env := p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		if env.alive() {
			return env, nil
		}
		delete(p.all, env)
	}
	env := newEnvironment(p.fn, p.cfg, p.sink)
	p.all[env] = struct{}{}
	return env, nil
}

func (p *pool) release(env *environment) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.active--
	if !env.alive() || p.closed {
		delete(p.all, env)
		if p.closed {
			go env.shutdown(500 * time.Millisecond)
		}
		return
	}
	p.idle = append(p.idle, env)
}

// close stops every environment and waits for their processes to exit.
func (p *pool) close() {
	p.mu.Lock()
	p.closed = true
	envs := make([]*environment, 0, len(p.all))
	for env := range p.all {
		envs = append(envs, env)
	}
	p.idle = nil
	p.mu.Unlock()
	var wg sync.WaitGroup
	for _, env := range envs {
		wg.Go(func() { env.shutdown(500 * time.Millisecond) })
	}
	wg.Wait()
}

// newRequestID returns a random UUID (version 4), like Lambda's request ids.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// newTraceHeader returns an X-Ray trace header for a new, sampled trace:
// Root=1-<epoch seconds hex>-<96 random bits>;Parent=<64 random bits>;Sampled=1.
func newTraceHeader(now time.Time) string {
	var b [20]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("Root=1-%08x-%s;Parent=%s;Sampled=1", now.Unix(), hex.EncodeToString(b[:12]), hex.EncodeToString(b[12:]))
}
