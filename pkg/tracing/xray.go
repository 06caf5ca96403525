package tracing

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-xray-sdk-go/v2/daemoncfg"
	"github.com/aws/aws-xray-sdk-go/v2/header"
	"github.com/aws/aws-xray-sdk-go/v2/strategy/ctxmissing"
	"github.com/aws/aws-xray-sdk-go/v2/strategy/sampling"
)

// Config configures the X-Ray tracer. The zero value is usable: every field
// has a default, and ConfigFromEnv fills it the way the X-Ray SDKs read the
// environment.
type Config struct {
	// Daemon is where the X-Ray daemon listens: UDP for segments, TCP for
	// the sampling proxy. Default: AWS_XRAY_DAEMON_ADDRESS (through the
	// SDK's daemoncfg), else 127.0.0.1:2000.
	Daemon *daemoncfg.DaemonEndpoints
	// Emitter sends finished documents. Default: UDP to Daemon.
	Emitter Emitter
	// Sampling decides whether a new trace is recorded. Default: the SDK's
	// centralized strategy through the daemon's proxy, falling back to the
	// SDK's default local rules (first request each second, then 5%).
	Sampling sampling.Strategy
	// ContextMissing is told, once per tracer, that a span was started with
	// no trace in its context. Default: the SDK's log-error strategy. A
	// panicking strategy is refused.
	ContextMissing ctxmissing.Strategy
	// ServiceName, when set, names every service entry (segment) instead of
	// the name passed to Start (AWS_XRAY_TRACING_NAME).
	ServiceName string
	// Disabled turns tracing off: Start records nothing (AWS_XRAY_SDK_DISABLED).
	Disabled bool
	// Log receives the tracer's own problems (first emit failure, …).
	// Default: a line on stderr.
	Log func(msg string)
	// Now replaces time.Now (tests).
	Now func() time.Time
}

// XRay is the X-Ray Tracer: spans become segment documents (X-Ray segment
// JSON) sent to the daemon when they end. Build one at init with NewXRay and
// install it with SetDefault, or let Default build one from the environment.
type XRay struct {
	emitter  Emitter
	closer   io.Closer
	sampler  sampling.Strategy
	missing  ctxmissing.Strategy
	missOnce sync.Once
	service  string
	disabled bool
	log      func(string)
	now      func() time.Time
	emitErrs atomic.Int64
}

// NewXRay returns an X-Ray tracer for cfg.
func NewXRay(cfg Config) (*XRay, error) {
	t := &XRay{
		emitter:  cfg.Emitter,
		sampler:  cfg.Sampling,
		missing:  cfg.ContextMissing,
		service:  cfg.ServiceName,
		disabled: cfg.Disabled,
		log:      cfg.Log,
		now:      cfg.Now,
	}
	if t.log == nil {
		t.log = func(msg string) { fmt.Fprintln(os.Stderr, "tracing:", msg) }
	}
	if t.now == nil {
		t.now = time.Now
	}
	if _, panics := t.missing.(*ctxmissing.DefaultRuntimeErrorStrategy); panics {
		return nil, errors.New("new X-Ray tracer: the runtime-error (panic) context-missing strategy is not allowed; use log-error or ignore-error")
	}
	if t.missing == nil {
		t.missing = ctxmissing.NewDefaultLogErrorStrategy()
	}
	if t.disabled {
		return t, nil
	}
	d := cfg.Daemon
	if d == nil {
		var err error
		if d, err = daemoncfg.GetDaemonEndpointsFromEnv(); err != nil {
			return nil, fmt.Errorf("new X-Ray tracer: AWS_XRAY_DAEMON_ADDRESS: %w", err)
		}
		if d == nil {
			d = daemoncfg.GetDefaultDaemonEndpoints()
		}
	}
	if t.emitter == nil {
		e, err := NewUDPEmitter(d)
		if err != nil {
			return nil, fmt.Errorf("new X-Ray tracer: %w", err)
		}
		t.emitter, t.closer = e, e
	}
	if t.sampler == nil {
		s, err := sampling.NewCentralizedStrategy()
		if err != nil {
			return nil, fmt.Errorf("new X-Ray tracer: sampling: %w", err)
		}
		s.LoadDaemonEndpoints(d)
		t.sampler = s
	}
	return t, nil
}

// Close releases the emitter NewXRay created (not one passed in Config).
func (t *XRay) Close() error {
	if t.closer != nil {
		return t.closer.Close()
	}
	return nil
}

// Start implements Tracer.
func (t *XRay) Start(ctx context.Context, name string, opts ...StartOption) (context.Context, Span) {
	if t.disabled {
		return ctx, noopSpan{}
	}
	if ctx == nil {
		ctx = context.Background()
	}
	c := NewStartConfig(opts)
	s := &xspan{tr: t, name: name, kind: c.Kind, start: t.now()}
	if c.RemoteParent != "" {
		if h := parseHeader(c.RemoteParent); h.TraceID != "" {
			s.segment, s.origin = true, c.Origin
			s.traceID, s.parentID = h.TraceID, h.ParentID
			switch h.SamplingDecision {
			case header.Sampled:
				s.sampled = true
			case header.NotSampled:
			default:
				s.sampled = t.shouldTrace(name, c)
			}
			return t.begin(ctx, s)
		}
	}
	if p, ok := ctx.Value(spanKey{}).(*xspan); ok && p != nil && p.tr == t {
		s.parent, s.traceID, s.parentID, s.sampled = p, p.traceID, p.id, p.sampled
		return t.begin(ctx, s)
	}
	if sc, ok := ParentFromContext(ctx); ok {
		s.traceID, s.parentID, s.sampled = sc.TraceID, sc.SpanID, sc.Sampled
		return t.begin(ctx, s)
	}
	if c.Kind == KindServer {
		s.segment, s.origin = true, c.Origin
		s.traceID = newTraceID(s.start)
		s.sampled = t.shouldTrace(name, c)
		return t.begin(ctx, s)
	}
	t.missOnce.Do(func() {
		t.missing.ContextMissing(fmt.Sprintf("tracing: %q started with no trace in its context; such spans are not recorded (reported once)", name))
	})
	return ctx, noopSpan{}
}

func (t *XRay) begin(ctx context.Context, s *xspan) (context.Context, Span) {
	if s.segment && t.service != "" {
		s.name = t.service
	}
	s.id = newSpanID()
	s.header = SpanContext{TraceID: s.traceID, SpanID: s.id, Sampled: s.sampled}.Header()
	return context.WithValue(ctx, spanKey{}, Span(s)), s
}

func (t *XRay) shouldTrace(name string, c StartConfig) bool {
	if t.sampler == nil {
		return true
	}
	d := t.sampler.ShouldTrace(&sampling.Request{
		Host: c.Sampling.Host, Method: c.Sampling.Method, URL: c.Sampling.Path,
		ServiceName: name, ServiceType: c.Origin,
	})
	return d != nil && d.Sample
}

// emit encodes and sends s (ended) and whatever it carries.
func (t *XRay) emit(s *xspan) {
	bp := docPool.Get().(*[]byte)
	b := appendDocument((*bp)[:0], s, true)
	if len(b) > maxDocumentBytes && len(s.children) > 0 {
		// Too big for one datagram: send the children on their own.
		for _, c := range s.children {
			c.parent = s
			t.emit(c)
		}
		s.children = nil
		b = appendDocument(b[:0], s, true)
	}
	if err := t.emitter.Emit(b); err != nil {
		if t.emitErrs.Add(1) == 1 {
			t.log(fmt.Sprintf("sending segment %s of trace %s: %v (further failures are counted, not logged)", s.id, s.traceID, err))
		}
	}
	*bp = b
	if cap(b) <= 64<<10 {
		docPool.Put(bp)
	}
}

// EmitErrors returns how many documents the emitter failed to send.
func (t *XRay) EmitErrors() int64 { return t.emitErrs.Load() }

// maxDocumentBytes keeps a document (plus the daemon header) within one UDP
// datagram the daemon accepts (64 KiB).
const maxDocumentBytes = 62 << 10

// maxChildren bounds how many subsegments one document carries; later ones
// are sent on their own.
const maxChildren = 50

var docPool = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

// xspan is an X-Ray segment or subsegment.
type xspan struct {
	tr *XRay
	// parent is the in-process span whose document carries this one, nil
	// for a segment and for a subsegment of a remote parent (the Lambda
	// facade, an SDK segment), which is sent on its own.
	parent   *xspan
	traceID  string
	id       string
	parentID string
	header   string
	name     string
	origin   string
	kind     Kind
	segment  bool
	sampled  bool
	start    time.Time

	mu          sync.Mutex
	ended       bool
	end         time.Time
	flags       uint8
	exceptions  []exception
	aws         *AWSCall
	http        *HTTP
	annotations []kv
	metadata    []kv
	children    []*xspan
}

const (
	flagError uint8 = 1 << iota
	flagFault
	flagThrottle
)

type kv struct {
	key   string
	value any
}

type exception struct {
	id, message, typ string
	remote           bool
}

func (s *xspan) Context() SpanContext {
	return SpanContext{TraceID: s.traceID, SpanID: s.id, Sampled: s.sampled}
}

func (s *xspan) TraceHeader() string { return s.header }

func (s *xspan) Annotate(key string, value any) {
	if !s.sampled {
		return
	}
	switch value.(type) {
	case string, bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64:
	default:
		value = fmt.Sprint(value)
	}
	s.mu.Lock()
	if !s.ended {
		if s.annotations == nil {
			s.annotations = make([]kv, 0, 6)
		}
		s.annotations = setKV(s.annotations, sanitizeKey(key), value)
	}
	s.mu.Unlock()
}

func (s *xspan) Metadata(key string, value any) {
	if !s.sampled {
		return
	}
	s.mu.Lock()
	if !s.ended {
		s.metadata = setKV(s.metadata, key, value)
	}
	s.mu.Unlock()
}

func setKV(list []kv, key string, value any) []kv {
	for i := range list {
		if list[i].key == key {
			list[i].value = value
			return list
		}
	}
	return append(list, kv{key, value})
}

func (s *xspan) SetAWS(call AWSCall) {
	if !s.sampled {
		return
	}
	s.mu.Lock()
	if !s.ended {
		s.aws = &call
	}
	s.mu.Unlock()
}

func (s *xspan) SetHTTP(h HTTP) {
	if !s.sampled {
		return
	}
	s.mu.Lock()
	if !s.ended {
		s.http = &h
		switch {
		case h.Status == 429:
			s.flags |= flagThrottle | flagError
		case h.Status >= 500:
			s.flags |= flagFault
		case h.Status >= 400:
			s.flags |= flagError
		}
	}
	s.mu.Unlock()
}

// maxExceptions bounds the exceptions one span records.
const maxExceptions = 10

func (s *xspan) SetError(err error, kind ErrorKind) {
	if !s.sampled {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return
	}
	switch kind {
	case Throttle:
		s.flags |= flagThrottle | flagError
	case ClientError:
		s.flags |= flagError
	default:
		s.flags |= flagFault
	}
	if err != nil && len(s.exceptions) < maxExceptions {
		s.exceptions = append(s.exceptions, exception{
			id: newSpanID(), message: err.Error(), typ: errorType(err), remote: s.kind == KindClient,
		})
	}
}

// errorType names the innermost error of err's Unwrap chain, which says more
// than the wrappers around it.
func errorType(err error) string {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return fmt.Sprintf("%T", err)
		}
		err = next
	}
}

func (s *xspan) End() {
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return
	}
	s.ended = true
	s.end = s.tr.now()
	s.mu.Unlock()
	if !s.sampled {
		return
	}
	if p := s.parent; p != nil {
		p.mu.Lock()
		if !p.ended && len(p.children) < maxChildren {
			p.children = append(p.children, s)
			p.mu.Unlock()
			return
		}
		p.mu.Unlock()
	}
	s.tr.emit(s)
}

// newSpanID returns 16 hex digits from crypto/rand.
func newSpanID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// newTraceID returns "1-<epoch seconds, 8 hex>-<96 random bits, 24 hex>".
func newTraceID(now time.Time) string {
	var b [35]byte
	b[0], b[1], b[10] = '1', '-', '-'
	ts := strconv.AppendUint(make([]byte, 0, 8), uint64(now.Unix())&0xffffffff, 16)
	for i := range 8 - len(ts) {
		b[2+i] = '0'
	}
	copy(b[10-len(ts):10], ts)
	var r [12]byte
	_, _ = rand.Read(r[:])
	hex.Encode(b[11:], r[:])
	return string(b[:])
}
