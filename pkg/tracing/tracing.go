package tracing

import (
	"context"
	"strings"

	"github.com/aws/aws-xray-sdk-go/v2/xray"
)

// lambdaTraceHeaderKey is the context key under which aws-lambda-go stores the
// invocation's trace header (Lambda-Runtime-Trace-Id). It is a plain string
// key by aws-lambda-go's choice; the X-Ray SDK reads the same key.
const lambdaTraceHeaderKey = "x-amzn-trace-id"

// TraceHeader returns the X-Ray trace header to hand to a downstream call,
// e.g. "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1".
//
// When ctx carries an X-Ray segment or subsegment (xray.BeginSegment,
// xray.BeginSubsegment, instrumented handlers), the header names it as the
// parent. Otherwise, inside a Lambda invocation without a segment, it is the
// invocation's own trace header as the runtime passed it. Otherwise it is "".
func TraceHeader(ctx context.Context) string {
	if ctx == nil {
		return ""
	}
	if seg := xray.GetSegment(ctx); seg != nil && seg.ParentSegment != nil && !xray.SdkDisabled() {
		if h := downstreamHeader(seg); h != "" {
			return h
		}
	}
	if h, ok := ctx.Value(lambdaTraceHeaderKey).(string); ok {
		return h
	}
	return ""
}

// TraceID returns the trace id (the Root value) of the trace in ctx, as
// TraceHeader finds it, or "" when there is none.
func TraceID(ctx context.Context) string {
	if ctx == nil {
		return ""
	}
	if seg := xray.GetSegment(ctx); seg != nil && seg.ParentSegment != nil && seg.TraceID != "" {
		return seg.TraceID
	}
	if h, ok := ctx.Value(lambdaTraceHeaderKey).(string); ok {
		return RootOf(h)
	}
	return ""
}

// RootOf returns the Root value of an X-Ray trace header string such as an
// SQS record's AWSTraceHeader attribute, or "" when it has none.
func RootOf(header string) string {
	for part := range strings.SplitSeq(header, ";") {
		part = strings.TrimSpace(part)
		if v, ok := strings.CutPrefix(part, "Root="); ok {
			return v
		}
	}
	return ""
}

// downstreamHeader is seg.DownstreamHeader().String() in one allocation for
// the common case (no additional data in the incoming header); the producer
// calls it once per publish.
func downstreamHeader(seg *xray.Segment) string {
	root := seg.ParentSegment
	in := root.IncomingHeader
	if in != nil && len(in.AdditionalData) > 0 {
		return seg.DownstreamHeader().String()
	}
	traceID := root.TraceID
	if in != nil && in.TraceID != "" {
		traceID = in.TraceID
	}
	if traceID == "" {
		return ""
	}
	sampled := "Sampled=0"
	if root.Sampled {
		sampled = "Sampled=1"
	}
	if seg.ID == "" {
		return "Root=" + traceID + ";" + sampled
	}
	return "Root=" + traceID + ";Parent=" + seg.ID + ";" + sampled
}
