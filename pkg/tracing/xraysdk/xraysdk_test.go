package xraysdk_test

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"sync"
	"testing"

	"github.com/aws/aws-xray-sdk-go/v2/header"
	"github.com/aws/aws-xray-sdk-go/v2/strategy/sampling"
	"github.com/aws/aws-xray-sdk-go/v2/xray"
	"github.com/stretchr/testify/require"

	"github.com/offload/offload/pkg/tracing"
	"github.com/offload/offload/pkg/tracing/xraysdk"
)

// TestMain samples every SDK segment: an unsampled one has the SDK's noop
// ids (all zeros), which name no trace to join.
func TestMain(m *testing.M) {
	s, err := sampling.NewLocalizedStrategyFromJSONBytes([]byte(`{"version":2,"default":{"fixed_target":1,"rate":1}}`))
	if err != nil {
		panic(err)
	}
	if err := xray.Configure(xray.Config{SamplingStrategy: s}); err != nil {
		panic(err)
	}
	os.Exit(m.Run())
}

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
	tp, err := tracing.NewProvider(tracing.Config{Emitter: docs})
	require.NoError(t, err)
	tr := tracing.NewTracer(tp)
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

type recorder struct {
	mu   sync.Mutex
	docs []string
}

func (r *recorder) Emit(doc []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.docs = append(r.docs, string(doc))
	return nil
}

func ExampleRegister() {
	// Importing xraysdk registers it; a service using xray.Handler then
	// publishes with the SDK segment's header.
	xraysdk.Register()
	ctx, seg := xray.BeginSegment(context.Background(), "example-service")
	defer seg.Close(nil)
	fmt.Println(tracing.TraceID(ctx) == seg.TraceID)
	// Output: true
}
