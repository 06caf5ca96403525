package producer

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/offload/offload/pkg/tracing"
)

// ErrBufferFull is returned by AsyncPublisher.Publish, when configured with
// WithErrorWhenFull, if the buffer has no room.
var ErrBufferFull = errors.New("producer: async buffer full")

// ErrClosed is returned by AsyncPublisher.Publish and Flush after Close.
var ErrClosed = errors.New("producer: async publisher closed")

// Failure is a message the AsyncPublisher could not publish.
type Failure struct {
	// Message is the message as it was sent, IdempotencyKey and TraceHeader
	// filled in.
	Message Message
	// Err says why (see Result.Err).
	Err error
}

// AsyncOption configures an AsyncPublisher.
type AsyncOption func(*AsyncPublisher)

// WithBufferSize bounds how many messages wait in memory (default 1000).
func WithBufferSize(n int) AsyncOption { return func(a *AsyncPublisher) { a.bufSize = n } }

// WithFlushSize sets how many buffered messages trigger a flush (default 10,
// one SendMessageBatch).
func WithFlushSize(n int) AsyncOption { return func(a *AsyncPublisher) { a.flushSize = n } }

// WithFlushInterval sets the longest a message waits in the buffer before it
// is sent (default 200ms).
func WithFlushInterval(d time.Duration) AsyncOption {
	return func(a *AsyncPublisher) { a.interval = d }
}

// WithFlushTimeout bounds each flush's calls to SQS, retries included
// (default 30s).
func WithFlushTimeout(d time.Duration) AsyncOption {
	return func(a *AsyncPublisher) { a.flushTimeout = d }
}

// WithErrorWhenFull makes Publish return ErrBufferFull at once when the buffer
// is full, instead of blocking until there is room or its context ends.
func WithErrorWhenFull() AsyncOption { return func(a *AsyncPublisher) { a.errorWhenFull = true } }

// WithFailureHandler receives every message that could not be published, from
// the AsyncPublisher's goroutine. It must return quickly and must not call the
// AsyncPublisher.
func WithFailureHandler(h func(Failure)) AsyncOption {
	return func(a *AsyncPublisher) { a.onFailure = h }
}

// AsyncPublisher buffers messages and publishes them in batches from one
// background goroutine. Publish, Flush and Close are safe for concurrent use.
//
// In a Lambda function, call Flush before returning from the handler: the
// execution environment is frozen between invocations.
type AsyncPublisher struct {
	pub           *Publisher
	bufSize       int
	flushSize     int
	interval      time.Duration
	flushTimeout  time.Duration
	errorWhenFull bool
	onFailure     func(Failure)

	mu       sync.RWMutex // guards closed and sends on ch
	closed   bool
	ch       chan Message
	flushReq chan chan error
	done     chan struct{}
	base     context.Context
	abort    context.CancelFunc

	accepted atomic.Int64
	failMu   sync.Mutex
	failed   int
	errs     []error
}

// NewAsync starts an AsyncPublisher sending through p. Close it to flush and
// stop its goroutine.
func NewAsync(p *Publisher, opts ...AsyncOption) (*AsyncPublisher, error) {
	a := &AsyncPublisher{pub: p, bufSize: 1000, flushSize: maxBatchEntries, interval: 200 * time.Millisecond, flushTimeout: 30 * time.Second}
	for _, o := range opts {
		o(a)
	}
	var errs []error
	if p == nil {
		errs = append(errs, errors.New("publisher is required"))
	}
	if a.bufSize < 1 {
		errs = append(errs, fmt.Errorf("buffer size must be at least 1, got %d", a.bufSize))
	}
	if a.flushSize < 1 || a.flushSize > a.bufSize {
		errs = append(errs, fmt.Errorf("flush size must be between 1 and the buffer size %d, got %d", a.bufSize, a.flushSize))
	}
	if a.interval <= 0 || a.flushTimeout <= 0 {
		errs = append(errs, errors.New("flush interval and flush timeout must be positive"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("new async publisher: %w", err)
	}
	a.ch = make(chan Message, a.bufSize)
	a.flushReq = make(chan chan error)
	a.done = make(chan struct{})
	a.base, a.abort = context.WithCancel(context.Background())
	go a.run()
	return a, nil
}

// Publish validates msg (size guard included), gives it an idempotency key and
// ctx's trace header, and queues it. It returns the key. When the buffer is
// full it blocks until there is room or ctx ends (or returns ErrBufferFull
// with WithErrorWhenFull). A nil error means the message is queued, not yet
// sent: a later failure goes to the failure handler and Close's error.
func (a *AsyncPublisher) Publish(ctx context.Context, msg Message) (string, error) {
	if msg.IdempotencyKey == "" {
		msg.IdempotencyKey = NewIdempotencyKey()
	}
	if msg.TraceHeader == "" {
		msg.TraceHeader = tracing.TraceHeader(ctx)
	}
	if _, _, err := a.pub.prepare(&msg, &msg.IdempotencyKey, nil); err != nil {
		return msg.IdempotencyKey, fmt.Errorf("publish %s: %w", msg.IdempotencyKey, err)
	}
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.closed {
		return msg.IdempotencyKey, fmt.Errorf("publish %s: %w", msg.IdempotencyKey, ErrClosed)
	}
	if a.errorWhenFull {
		select {
		case a.ch <- msg:
		default:
			return msg.IdempotencyKey, fmt.Errorf("publish %s: %w", msg.IdempotencyKey, ErrBufferFull)
		}
	} else {
		select {
		case a.ch <- msg:
		case <-ctx.Done():
			return msg.IdempotencyKey, fmt.Errorf("publish %s: waiting for buffer room: %w", msg.IdempotencyKey, ctx.Err())
		}
	}
	a.accepted.Add(1)
	return msg.IdempotencyKey, nil
}

// Flush publishes every message queued before the call and returns when they
// are sent or reported as failures. The error is a *BatchError for those that
// failed in this flush (they are also reported as usual), ctx's error, or
// ErrClosed.
func (a *AsyncPublisher) Flush(ctx context.Context) error {
	req := make(chan error, 1)
	select {
	case a.flushReq <- req:
	case <-a.done:
		return ErrClosed
	case <-ctx.Done():
		return fmt.Errorf("flush: %w", ctx.Err())
	}
	select {
	case err := <-req:
		return err
	case <-ctx.Done():
		return fmt.Errorf("flush: %w", ctx.Err())
	}
}

// Close stops accepting messages, publishes everything buffered, and stops
// the goroutine. If ctx ends first, in-flight and remaining sends are
// cancelled and reported as failures (never dropped silently). The error is a
// *BatchError counting every message that failed over the publisher's
// lifetime (with the first ten errors), or nil.
func (a *AsyncPublisher) Close(ctx context.Context) error {
	a.mu.Lock()
	if !a.closed {
		a.closed = true
		close(a.ch)
	}
	a.mu.Unlock()
	select {
	case <-a.done:
	case <-ctx.Done():
		a.abort()
		<-a.done
	}
	a.abort()
	a.failMu.Lock()
	defer a.failMu.Unlock()
	if a.failed == 0 {
		return nil
	}
	return &BatchError{Failed: a.failed, Total: int(a.accepted.Load()), Errs: a.errs}
}

func (a *AsyncPublisher) run() {
	defer close(a.done)
	ticker := time.NewTicker(a.interval)
	defer ticker.Stop()
	batch := make([]Message, 0, a.flushSize)
	for {
		select {
		case m, ok := <-a.ch:
			if !ok {
				a.flush(batch)
				return
			}
			batch = append(batch, m)
			if len(batch) >= a.flushSize {
				a.flush(batch)
				batch = batch[:0]
			}
		case <-ticker.C:
			if len(batch) > 0 {
				a.flush(batch)
				batch = batch[:0]
			}
		case req := <-a.flushReq:
			var failed *BatchError
			for n := len(a.ch); n > 0; n-- {
				m, ok := <-a.ch
				if !ok {
					break
				}
				batch = append(batch, m)
				if len(batch) >= a.flushSize {
					failed = mergeBatchErr(failed, a.flush(batch))
					batch = batch[:0]
				}
			}
			failed = mergeBatchErr(failed, a.flush(batch))
			batch = batch[:0]
			if failed != nil {
				req <- failed
			}
			close(req)
		}
	}
}

func mergeBatchErr(into, add *BatchError) *BatchError {
	if add == nil {
		return into
	}
	if into == nil {
		return add
	}
	into.Failed += add.Failed
	into.Total += add.Total
	for _, e := range add.Errs {
		if len(into.Errs) < 10 {
			into.Errs = append(into.Errs, e)
		}
	}
	return into
}

// flush publishes batch and reports its failures; it returns them too.
func (a *AsyncPublisher) flush(batch []Message) *BatchError {
	if len(batch) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(a.base, a.flushTimeout)
	defer cancel()
	results, err := a.pub.PublishBatch(ctx, batch)
	if err == nil {
		return nil
	}
	a.failMu.Lock()
	for i := range results {
		if results[i].Err == nil {
			continue
		}
		a.failed++
		if len(a.errs) < 10 {
			a.errs = append(a.errs, results[i].Err)
		}
	}
	a.failMu.Unlock()
	if a.onFailure != nil {
		for i := range results {
			if results[i].Err != nil {
				a.onFailure(Failure{Message: batch[i], Err: results[i].Err})
			}
		}
	}
	var be *BatchError
	errors.As(err, &be)
	return be
}
