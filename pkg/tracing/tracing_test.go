package tracing_test

import (
	"context"
	"fmt"
	"regexp"
	"testing"

	"github.com/aws/aws-xray-sdk-go/v2/xray"
	"github.com/stretchr/testify/require"

	"github.com/offload/offload/pkg/tracing"
)

var headerRE = regexp.MustCompile(`^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=[01]$`)

func TestTraceHeaderWithoutSegment(t *testing.T) {
	t.Parallel()
	require.Empty(t, tracing.TraceHeader(context.Background()))
	require.Empty(t, tracing.TraceID(context.Background()))
	//lint:ignore SA1012 a nil context must not panic either
	require.Empty(t, tracing.TraceHeader(nil))
}

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

func TestTraceHeaderFromLambdaContext(t *testing.T) {
	t.Parallel()
	const h = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
	//lint:ignore SA1029 aws-lambda-go stores the header under this plain string key
	ctx := context.WithValue(context.Background(), "x-amzn-trace-id", h)
	require.Equal(t, h, tracing.TraceHeader(ctx))
	require.Equal(t, "1-5759e988-bd862e3fe1be46a994272793", tracing.TraceID(ctx))
}

func TestRootOf(t *testing.T) {
	t.Parallel()
	require.Equal(t, "1-abc-def", tracing.RootOf("Sampled=1; Root=1-abc-def;Parent=x"))
	require.Empty(t, tracing.RootOf(""))
	require.Empty(t, tracing.RootOf("Parent=x"))
}

func ExampleTraceHeader() {
	// Without a segment (or a Lambda invocation) there is nothing to pass on.
	fmt.Printf("%q\n", tracing.TraceHeader(context.Background()))
	// Output: ""
}

func TestTraceHeaderMatchesSDK(t *testing.T) {
	t.Parallel()
	ctx, seg := xray.BeginSegment(context.Background(), "a")
	require.Equal(t, seg.DownstreamHeader().String(), tracing.TraceHeader(ctx))
	subCtx, sub := xray.BeginSubsegment(ctx, "b")
	require.Equal(t, sub.DownstreamHeader().String(), tracing.TraceHeader(subCtx))
}

func BenchmarkTraceHeader(b *testing.B) {
	ctx, _ := xray.BeginSegment(context.Background(), "bench")
	b.ReportAllocs()
	for b.Loop() {
		_ = tracing.TraceHeader(ctx)
	}
}
