package xraysdk_test

import (
	"context"
	"fmt"
	"regexp"
	"testing"

	"github.com/aws/aws-xray-sdk-go/v2/header"
	"github.com/aws/aws-xray-sdk-go/v2/xray"
	"github.com/stretchr/testify/require"

	"github.com/offload/offload/pkg/tracing"
	"github.com/offload/offload/pkg/tracing/xraysdk"
)

var headerRE = regexp.MustCompile(`^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=[01]$`)

func TestTraceHeaderFromSegment(t *testing.T) {
	t.Parallel()
	ctx, seg := xray.BeginSegment(context.Background(), "producer-test")
	h := tracing.TraceHeader(ctx)
	require.Regexp(t, headerRE, h)
	require.Contains(t, h, "Root="+seg.TraceID)
	require.Contains(t, h, "Parent="+seg.ID)
	require.Equal(t, seg.TraceID, tracing.TraceID(ctx))

	subCtx, sub := xray.BeginSubsegment(ctx, "send")
	require.Contains(t, tracing.TraceHeader(subCtx), "Parent="+sub.ID)
	require.Contains(t, tracing.TraceHeader(subCtx), "Root="+seg.TraceID)
}

func TestTraceHeaderMatchesSDK(t *testing.T) {
	t.Parallel()
	ctx, seg := xray.BeginSegment(context.Background(), "a")
	require.Equal(t, seg.DownstreamHeader().String(), tracing.TraceHeader(ctx))
	subCtx, sub := xray.BeginSubsegment(ctx, "b")
	require.Equal(t, sub.DownstreamHeader().String(), tracing.TraceHeader(subCtx))
}

func TestIncomingHeaderTraceIsKept(t *testing.T) {
	t.Parallel()
	const in = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
	ctx, seg := xray.NewSegmentFromHeader(context.Background(), "svc", nil, header.FromString(in))
	sc, ok := xraysdk.SpanContext(ctx)
	require.True(t, ok)
	require.Equal(t, tracing.SpanContext{TraceID: "1-5759e988-bd862e3fe1be46a994272793", SpanID: seg.ID, Sampled: seg.Sampled}, sc)
}

// A tracing span started inside an SDK segment is its child.
func TestTracingSpanUnderSDKSegment(t *testing.T) {
	t.Parallel()
	docs := &recorder{}
	tr, err := tracing.NewXRay(tracing.Config{Emitter: docs})
	require.NoError(t, err)
	ctx, seg := xray.BeginSegment(context.Background(), "svc")
	_, span := tr.Start(ctx, "SQS", tracing.WithKind(tracing.KindClient))
	require.Equal(t, seg.TraceID, span.Context().TraceID)
	require.Equal(t, seg.Sampled, span.Context().Sampled)
	span.End()
	if seg.Sampled {
		require.Len(t, docs.docs, 1)
		require.Contains(t, docs.docs[0], fmt.Sprintf(`"parent_id":%q`, seg.ID))
		require.Contains(t, docs.docs[0], `"type":"subsegment"`)
	}
}

func TestNoSegmentNoHeader(t *testing.T) {
	t.Parallel()
	_, ok := xraysdk.SpanContext(context.Background())
	require.False(t, ok)
	require.Empty(t, tracing.TraceHeader(context.Background()))
}

type recorder struct{ docs []string }

func (r *recorder) Emit(doc []byte) error { r.docs = append(r.docs, string(doc)); return nil }

func ExampleRegister() {
	// Importing xraysdk registers it; a service using xray.Handler then
	// publishes with the SDK segment's header.
	xraysdk.Register()
	ctx, seg := xray.BeginSegment(context.Background(), "example-service")
	defer seg.Close(nil)
	fmt.Println(tracing.TraceID(ctx) == seg.TraceID)
	// Output: true
}
