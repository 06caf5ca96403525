package xraysdk

import (
	"context"

	"github.com/aws/aws-xray-sdk-go/v2/xray"

	"github.com/offload/offload/pkg/tracing"
)

func init() { Register() }

// Register makes pkg/tracing see X-Ray SDK segments (importing the package
// already did). It is safe to call more than once.
func Register() { tracing.RegisterParentSource(SpanContext) }

// SpanContext returns the identity of the X-Ray SDK segment or subsegment in
// ctx: its trace id, its id and the trace's sampling decision. ok is false
// when ctx holds none or the SDK is disabled (AWS_XRAY_SDK_DISABLED).
func SpanContext(ctx context.Context) (sc tracing.SpanContext, ok bool) {
	seg := xray.GetSegment(ctx)
	if seg == nil || seg.ParentSegment == nil || seg.ID == "" || xray.SdkDisabled() {
		return tracing.SpanContext{}, false
	}
	root := seg.ParentSegment
	traceID := root.TraceID
	if in := root.IncomingHeader; in != nil && in.TraceID != "" {
		traceID = in.TraceID
	}
	if traceID == "" {
		return tracing.SpanContext{}, false
	}
	return tracing.SpanContext{TraceID: traceID, SpanID: seg.ID, Sampled: root.Sampled}, true
}
