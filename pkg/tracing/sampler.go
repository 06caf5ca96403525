package tracing

import (
	"github.com/aws/aws-xray-sdk-go/v2/strategy/sampling"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// NewSampler returns the provider's sampler: parent-based — a span with a
// parent takes its decision (a producer's Sampled flag in AWSTraceHeader,
// the Lambda invocation's, the in-process parent's) — and, for a new trace or
// a remote parent whose X-Ray header left the decision open (Sampled=?),
// X-Ray's sampling rules through rules (the X-Ray SDK's local or centralized
// strategy), matched on the span's name, server.address, http.request.method
// and url.path.
//
// contrib's X-Ray remote sampler (go.opentelemetry.io/contrib/samplers/aws/xray)
// is not used: its release for this OpenTelemetry version is not served by
// the module proxy offload builds from. The SDK strategy asks the daemon's
// sampling proxy for centralized rules, lazily, on the first new trace — not
// at init.
func NewSampler(rules sampling.Strategy) sdktrace.Sampler {
	root := ruleSampler{rules: rules}
	return undecidedSampler{
		root:   root,
		parent: sdktrace.ParentBased(root),
	}
}

// undecidedSampler sends remote parents with an undecided X-Ray header to
// the rules, everything else to the parent-based sampler.
type undecidedSampler struct {
	root   sdktrace.Sampler
	parent sdktrace.Sampler
}

func (s undecidedSampler) ShouldSample(p sdktrace.SamplingParameters) sdktrace.SamplingResult {
	psc := trace.SpanContextFromContext(p.ParentContext)
	if psc.IsValid() && psc.IsRemote() && psc.TraceState().Get(undecidedKey) == undecidedValue {
		r := s.root.ShouldSample(p)
		r.Tracestate = psc.TraceState().Delete(undecidedKey)
		return r
	}
	return s.parent.ShouldSample(p)
}

func (s undecidedSampler) Description() string {
	return "ParentBased{root:XRayRules} honouring X-Ray's undecided Sampled flag"
}

// ruleSampler adapts an X-Ray SDK sampling strategy.
type ruleSampler struct{ rules sampling.Strategy }

func (s ruleSampler) ShouldSample(p sdktrace.SamplingParameters) sdktrace.SamplingResult {
	req := &sampling.Request{ServiceName: p.Name}
	for _, a := range p.Attributes {
		switch a.Key {
		case keyServerAddress:
			req.Host = a.Value.AsString()
		case keyHTTPMethod:
			req.Method = a.Value.AsString()
		case keyURLPath:
			req.URL = a.Value.AsString()
		case AttrOrigin:
			req.ServiceType = a.Value.AsString()
		}
	}
	ts := trace.SpanContextFromContext(p.ParentContext).TraceState()
	if s.rules == nil {
		return sdktrace.SamplingResult{Decision: sdktrace.RecordAndSample, Tracestate: ts}
	}
	if d := s.rules.ShouldTrace(req); d != nil && d.Sample {
		return sdktrace.SamplingResult{Decision: sdktrace.RecordAndSample, Tracestate: ts}
	}
	return sdktrace.SamplingResult{Decision: sdktrace.Drop, Tracestate: ts}
}

func (ruleSampler) Description() string { return "XRayRules" }
