package tracing

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/aws/aws-xray-sdk-go/v2/daemoncfg"
	"github.com/aws/aws-xray-sdk-go/v2/strategy/ctxmissing"
	"github.com/aws/aws-xray-sdk-go/v2/strategy/sampling"
	"go.opentelemetry.io/contrib/propagators/aws/xray"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/embedded"
	"go.opentelemetry.io/otel/trace/noop"
)

// Config configures NewProvider. The zero value is usable: every field has
// a default, and ConfigFromEnv fills it the way the X-Ray SDKs read the
// environment.
type Config struct {
	// Daemon is where the X-Ray daemon listens: UDP for segments, TCP for
	// the sampling proxy. Default: AWS_XRAY_DAEMON_ADDRESS (through the
	// SDK's daemoncfg), else 127.0.0.1:2000.
	Daemon *daemoncfg.DaemonEndpoints
	// Emitter sends the exporter's documents. Default: UDP to Daemon.
	Emitter Emitter
	// Exporter replaces the X-Ray exporter (e.g. pkg/tracing/otlp's, for
	// services outside Lambda). Emitter is then unused.
	Exporter sdktrace.SpanExporter
	// Sampling decides whether a new trace (no parent) is recorded; a
	// parent's decision (a producer's Sampled flag) is always honoured.
	// Default: the X-Ray SDK's centralized strategy through the daemon's
	// proxy, falling back to its default local rules (first request each
	// second, then 5%).
	Sampling sampling.Strategy
	// ContextMissing is told, once per provider, that a span was started
	// with no trace in its context. Default: the SDK's log-error strategy. A
	// panicking strategy is refused.
	ContextMissing ctxmissing.Strategy
	// ServiceName, when set, names every service entry (segment) instead of
	// the span's name (AWS_XRAY_TRACING_NAME).
	ServiceName string
	// Disabled turns tracing off: spans record nothing, trace context still
	// propagates (AWS_XRAY_SDK_DISABLED).
	Disabled bool
	// Log receives the exporter's own problems (first emit failure, …).
	// Default: a line on stderr.
	Log func(msg string)
}

// Provider is offload's OpenTelemetry TracerProvider. Build one per
// container at init (NewProvider, ProviderFromEnv) and pass it explicitly to
// InstrumentAWS, Middleware, Transport, NewTracer (batch.WithTracer) and
// pkg/producer; SetGlobal also installs it as OpenTelemetry's global
// provider, for code that wants that.
//
// Besides the SDK's behaviour, its tracers
//   - continue the Lambda invocation's trace (the Lambda-Runtime-Trace-Id
//     header aws-lambda-go puts in the invocation's context) or a span a
//     registered parent source finds (the X-Ray SDK's) when ctx carries no
//     OpenTelemetry span;
//   - do not start a new trace for a client or internal span with no trace
//     in its context: the missing context is reported once and the span
//     records nothing;
//   - hand an SQS send span StartSend made to the AWS SDK instrumentation,
//     so the message's AWSTraceHeader names the send.
type Provider struct {
	embedded.TracerProvider
	tp       trace.TracerProvider
	sdk      *sdktrace.TracerProvider
	exporter *Exporter
	prop     propagation.TextMapPropagator
	missing  ctxmissing.Strategy
	missOnce *sync.Once
}

// NewProvider returns an OpenTelemetry SDK TracerProvider with X-Ray's ID
// generator, a parent-based sampler over cfg.Sampling and, unless
// cfg.Exporter says otherwise, the X-Ray exporter (segment documents over
// UDP to the daemon). Spans are exported as they end (a Lambda process may
// be frozen right after the invocation). Close it at shutdown.
func NewProvider(cfg Config) (*Provider, error) {
	if _, panics := cfg.ContextMissing.(*ctxmissing.DefaultRuntimeErrorStrategy); panics {
		return nil, errors.New("new tracer provider: the runtime-error (panic) context-missing strategy is not allowed; use log-error or ignore-error")
	}
	p := &Provider{prop: Propagator(), missing: cfg.ContextMissing, missOnce: &sync.Once{}}
	if p.missing == nil {
		p.missing = ctxmissing.NewDefaultLogErrorStrategy()
	}
	if cfg.Disabled {
		p.tp = noop.NewTracerProvider()
		return p, nil
	}
	d := cfg.Daemon
	if d == nil {
		var err error
		if d, err = daemoncfg.GetDaemonEndpointsFromEnv(); err != nil {
			return nil, fmt.Errorf("new tracer provider: AWS_XRAY_DAEMON_ADDRESS: %w", err)
		}
		if d == nil {
			d = daemoncfg.GetDefaultDaemonEndpoints()
		}
	}
	exp := cfg.Exporter
	if exp == nil {
		em := cfg.Emitter
		var closer func() error
		if em == nil {
			u, err := NewUDPEmitter(d)
			if err != nil {
				return nil, fmt.Errorf("new tracer provider: %w", err)
			}
			em, closer = u, u.Close
		}
		p.exporter = NewExporter(em, ExporterOptions{ServiceName: cfg.ServiceName, Log: cfg.Log, close: closer})
		exp = p.exporter
	}
	s := cfg.Sampling
	if s == nil {
		c, err := sampling.NewCentralizedStrategy()
		if err != nil {
			return nil, fmt.Errorf("new tracer provider: sampling: %w", err)
		}
		c.LoadDaemonEndpoints(d)
		s = c
	}
	p.sdk = sdktrace.NewTracerProvider(
		sdktrace.WithIDGenerator(xray.NewIDGenerator()),
		sdktrace.WithSampler(NewSampler(s)),
		sdktrace.WithSpanProcessor(sdktrace.NewSimpleSpanProcessor(exp)),
	)
	p.tp = p.sdk
	return p, nil
}

// ProviderFromEnv is NewProvider(ConfigFromEnv()). When the environment is
// invalid the problem is written to stderr and tracing is off (an
// observability setting must not stop a function from starting).
func ProviderFromEnv() *Provider {
	cfg, err := ConfigFromEnv()
	var p *Provider
	if err == nil {
		p, err = NewProvider(cfg)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "tracing: %v; tracing is off\n", err)
		p, _ = NewProvider(Config{Disabled: true})
	}
	return p
}

// FromProvider gives any TracerProvider (a service's own SDK provider, the
// global one) offload's behaviour (see Provider) without changing how it
// samples or exports. A *Provider is returned as it is; nil (also a nil
// *Provider, such as an unset field) is a provider whose spans record nothing.
func FromProvider(tp trace.TracerProvider) *Provider {
	if p, ok := tp.(*Provider); ok {
		if p != nil {
			return p
		}
		tp = nil
	}
	if tp == nil {
		tp = noop.NewTracerProvider()
	}
	return &Provider{tp: tp, prop: Propagator(), missing: ctxmissing.NewDefaultLogErrorStrategy(), missOnce: &sync.Once{}}
}

// Global is FromProvider(otel.GetTracerProvider()): the convenience for code
// that is handed no provider. With no global provider installed, spans
// record nothing but trace context still propagates.
func Global() *Provider { return FromProvider(otel.GetTracerProvider()) }

// SetGlobal installs p as OpenTelemetry's global TracerProvider and its
// propagator as the global propagator.
func (p *Provider) SetGlobal() {
	otel.SetTracerProvider(p)
	otel.SetTextMapPropagator(p.prop)
}

// Propagator returns the provider's propagator (Propagator()).
func (p *Provider) Propagator() propagation.TextMapPropagator { return p.prop }

// Tracer implements trace.TracerProvider.
func (p *Provider) Tracer(name string, opts ...trace.TracerOption) trace.Tracer {
	return &otelTracer{p: p, t: p.tp.Tracer(name, opts...)}
}

// Exporter returns the X-Ray exporter NewProvider built, nil otherwise.
func (p *Provider) Exporter() *Exporter { return p.exporter }

// ForceFlush exports what has ended and not been exported yet.
func (p *Provider) ForceFlush(ctx context.Context) error {
	if p.sdk == nil {
		return nil
	}
	return p.sdk.ForceFlush(ctx)
}

// Close shuts the SDK provider down (flushing it) and closes the emitter
// NewProvider created. A provider FromProvider wrapped is left alone.
func (p *Provider) Close() error {
	if p.sdk == nil {
		return nil
	}
	return p.sdk.Shutdown(context.Background())
}

func (p *Provider) reportMissing(name string) {
	p.missOnce.Do(func() {
		p.missing.ContextMissing(fmt.Sprintf("tracing: %q started with no trace in its context; such spans are not recorded (reported once)", name))
	})
}

// otelTracer is an OpenTelemetry tracer with the Provider's behaviour.
type otelTracer struct {
	embedded.Tracer
	p *Provider
	t trace.Tracer
}

func (t *otelTracer) Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	if ctx == nil {
		ctx = context.Background()
	}
	if a, ok := ctx.Value(sendKey{}).(*adoptable); ok && a.take(ctx) {
		c := trace.NewSpanStartConfig(opts...)
		a.span.SetAttributes(c.Attributes()...)
		return ctx, adoptedSpan{a.span}
	}
	if !trace.SpanContextFromContext(ctx).IsValid() {
		if sc, ok := parentOTel(ctx); ok {
			ctx = trace.ContextWithRemoteSpanContext(ctx, sc)
		} else if c := trace.NewSpanStartConfig(opts...); !c.NewRoot() && c.SpanKind() != trace.SpanKindServer && c.SpanKind() != trace.SpanKindConsumer {
			t.p.reportMissing(name)
			return ctx, trace.SpanFromContext(ctx)
		}
	}
	return t.t.Start(ctx, name, opts...)
}
