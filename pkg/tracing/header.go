package tracing

import (
	"context"
	"strings"

	"go.opentelemetry.io/contrib/propagators/aws/xray"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// TraceHeaderName is the HTTP header that carries the X-Ray trace header.
const TraceHeaderName = "X-Amzn-Trace-Id"

// undecidedKey marks, in a remote span context's trace state, an X-Ray
// header whose Sampled flag was absent or "?": the sampler decides (the
// X-Ray SDKs' behaviour) instead of reading it as not sampled.
const undecidedKey, undecidedValue = "offload", "sampling-undecided"

// Propagator returns the propagator offload uses everywhere: W3C trace
// context and, taking precedence, X-Ray's X-Amzn-Trace-Id (contrib's X-Ray
// propagator). An X-Ray header without a sampling decision is left to the
// sampler.
func Propagator() propagation.TextMapPropagator {
	return propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, xrayPropagator{})
}

type xrayPropagator struct{ xray.Propagator }

func (p xrayPropagator) Extract(ctx context.Context, carrier propagation.TextMapCarrier) context.Context {
	h := carrier.Get(TraceHeaderName)
	if h == "" {
		return ctx
	}
	if sc, ok := parseHeader(h); ok {
		return trace.ContextWithRemoteSpanContext(ctx, sc)
	}
	return ctx
}

// parseHeader parses an X-Ray trace header ("Root=…;Parent=…;Sampled=…")
// with contrib's X-Ray propagator into a remote span context; ok is false
// when it names no valid trace and parent.
func parseHeader(h string) (trace.SpanContext, bool) {
	ctx := xray.Propagator{}.Extract(context.Background(), propagation.MapCarrier{TraceHeaderName: h})
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return trace.SpanContext{}, false
	}
	if samplingUndecided(h) {
		ts, err := sc.TraceState().Insert(undecidedKey, undecidedValue)
		if err == nil {
			sc = sc.WithTraceState(ts)
		}
	}
	return sc, true
}

// samplingUndecided reports whether h has no Sampled=0/1.
func samplingUndecided(h string) bool {
	for part := range strings.SplitSeq(h, ";") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(part), "Sampled="); ok {
			return v != "0" && v != "1"
		}
	}
	return true
}

// formatHeader is the X-Ray header naming sc as the parent.
func formatHeader(sc trace.SpanContext) string {
	if !sc.IsValid() {
		return ""
	}
	return fromOTel(sc).Header()
}

// xrayTraceID formats an OpenTelemetry trace id as X-Ray's
// "1-<8 hex>-<24 hex>".
func xrayTraceID(id trace.TraceID) string {
	var b [35]byte
	h := id.String()
	b[0], b[1], b[10] = '1', '-', '-'
	copy(b[2:10], h[:8])
	copy(b[11:], h[8:])
	return string(b[:])
}

func fromOTel(sc trace.SpanContext) SpanContext {
	return SpanContext{TraceID: xrayTraceID(sc.TraceID()), SpanID: sc.SpanID().String(), Sampled: sc.IsSampled()}
}

// toOTel converts an X-Ray span identity into a remote span context.
func toOTel(sc SpanContext) (trace.SpanContext, bool) {
	return parseHeader(sc.Header())
}

// ParseHeader returns the span an X-Ray trace header names as the parent
// (an SQS record's AWSTraceHeader), and whether it names one.
func ParseHeader(h string) (SpanContext, bool) {
	sc, ok := parseHeader(h)
	if !ok {
		return SpanContext{}, false
	}
	return fromOTel(sc), true
}
