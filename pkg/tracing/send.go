package tracing

import (
	"context"
	"sync/atomic"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// W3CTraceParentAttr is the SQS message attribute that carries the W3C
// traceparent of a message's send, for consumers outside AWS X-Ray.
const W3CTraceParentAttr = "traceparent"

// Send is an SQS send in progress (StartSend): the headers to put on the
// message and the span to end when the call returns.
type Send struct {
	// AWSTraceHeader is the X-Ray trace header naming the send as the
	// message's parent, for SQS's AWSTraceHeader system attribute; "" when
	// ctx carries no trace.
	AWSTraceHeader string
	// TraceParent is the W3C traceparent of the same span; "" when ctx
	// carries no trace.
	TraceParent string
	span        trace.Span
}

// End ends the send's span, recording err (a fault) when it is not nil.
func (s *Send) End(err error) {
	if s == nil || s.span == nil {
		return
	}
	if err != nil && s.span.IsRecording() {
		setError(s.span, err, Fault)
	}
	s.span.End()
}

// StartSend starts the span of sending to an SQS queue (OpenTelemetry
// messaging "send", named "SQS" with X-Ray's aws fields) as a child of the
// trace in ctx, and returns ctx carrying it with the headers the producer
// writes on the message. When the SQS client is instrumented (InstrumentAWS)
// the SDK call's span is this one — no second span, and the message's
// AWSTraceHeader names exactly the send X-Ray shows. With no trace in ctx
// nothing is traced and the headers are empty.
//
// tp may be nil (Global). A producer whose service traces with the X-Ray
// SDK (pkg/tracing/xraysdk) gets that SDK's segment as the parent.
func StartSend(ctx context.Context, tp trace.TracerProvider, queueURL, operation string) (context.Context, *Send) {
	if tp == nil {
		tp = Global()
	}
	if _, ok := parentOTel(ctx); !ok {
		return ctx, &Send{}
	}
	p := FromProvider(tp)
	attrs := []trace.SpanStartOption{
		trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes(
			keyRPCSystem.String(awsAPI), keyRPCMethod.String("SQS/"+operation), AttrOperation.String(operation),
			AttrQueueURL.String(queueURL), keyMessagingSys.String("aws_sqs"), keyMessagingOp.String("send"),
			keyMessagingDest.String(queueNameOf(queueURL)), AttrRetries.Int(0),
			attributeQueueAnnotation(queueURL),
		),
	}
	ctx, span := p.Tracer("github.com/offload/offload/pkg/tracing").Start(ctx, "SQS", attrs...)
	sc := span.SpanContext()
	if !sc.IsValid() {
		return ctx, &Send{}
	}
	s := &Send{AWSTraceHeader: formatHeader(sc), span: span}
	carrier := propagation.MapCarrier{}
	propagation.TraceContext{}.Inject(ctx, carrier)
	s.TraceParent = carrier.Get(W3CTraceParentAttr)
	return context.WithValue(ctx, sendKey{}, &adoptable{span: span}), s
}

// sendKey is the context key of the send span the AWS instrumentation
// adopts.
type sendKey struct{}

// adoptable is a send span the first instrumented SDK call in its context
// takes as its own.
type adoptable struct {
	span  trace.Span
	taken atomic.Bool
}

// take reports whether ctx's call is the one to adopt the span: its current
// span is the send's and nobody took it yet.
func (a *adoptable) take(ctx context.Context) bool {
	if trace.SpanFromContext(ctx) != a.span {
		return false
	}
	return a.taken.CompareAndSwap(false, true)
}

// adoptedSpan is the send span as the SDK instrumentation sees it: its End
// is the producer's to call.
type adoptedSpan struct{ trace.Span }

func (adoptedSpan) End(...trace.SpanEndOption) {}

// TraceParentOf converts an X-Ray trace header naming a parent into a W3C
// traceparent ("00-<trace>-<parent>-<flags>"); "" when it names none.
func TraceParentOf(header string) string {
	if header == "" {
		return ""
	}
	sc, ok := parseHeader(header)
	if !ok {
		return ""
	}
	flags := "00"
	if sc.IsSampled() {
		flags = "01"
	}
	return "00-" + sc.TraceID().String() + "-" + sc.SpanID().String() + "-" + flags
}
