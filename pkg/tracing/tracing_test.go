package tracing_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"testing"

	"github.com/aws/aws-xray-sdk-go/v2/strategy/ctxmissing"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/offload/offload/pkg/tracing"
	"github.com/offload/offload/pkg/tracing/tracingtest"
)

var (
	traceIDRE = regexp.MustCompile(`^1-[0-9a-f]{8}-[0-9a-f]{24}$`)
	spanIDRE  = regexp.MustCompile(`^[0-9a-f]{16}$`)
)

// A service entry's document: every field X-Ray reads, from the span's
// attributes and events.
func TestSegmentDocumentFields(t *testing.T) {
	t.Parallel()
	tr, rec := setup(t)
	ctx, seg := tr.Start(context.Background(), "example-service", tracing.WithKind(tracing.KindServer), tracing.WithOrigin("AWS::EC2::Instance"))
	seg.SetHTTP(tracing.HTTP{Method: "POST", URL: "http://svc.local/audit", ClientIP: "10.0.0.1", UserAgent: "curl", XForwardedFor: true, Status: 503, ContentLength: 12})
	seg.Annotate("outcome", "failed")
	seg.Annotate("bad key!", 3)
	seg.Metadata("detail", map[string]int{"n": 1})
	seg.SetError(errors.New("boom"), tracing.Fault)
	_, call := tr.Start(ctx, "DynamoDB", tracing.WithKind(tracing.KindClient))
	call.SetAWS(tracing.AWSCall{Operation: "PutItem", Region: "us-east-1", RequestID: "r-1", TableName: "audit", Retries: 2})
	call.SetError(errors.New("slow down"), tracing.Throttle)
	call.End()
	seg.End()

	require.Equal(t, 2, rec.count())
	sub, doc := rec.doc(t, 0), rec.doc(t, 1)
	sc := seg.Context()
	require.Regexp(t, traceIDRE, sc.TraceID)
	require.Regexp(t, spanIDRE, sc.SpanID)
	require.Equal(t, "example-service", doc["name"])
	require.Equal(t, sc.SpanID, doc["id"])
	require.Equal(t, sc.TraceID, doc["trace_id"])
	require.Nil(t, doc["parent_id"])
	require.Nil(t, doc["type"], "a segment")
	require.Equal(t, "AWS::EC2::Instance", doc["origin"])
	require.Equal(t, true, doc["fault"])
	require.Nil(t, doc["namespace"])
	require.Equal(t, map[string]any{"request": map[string]any{"method": "POST", "url": "http://svc.local/audit", "client_ip": "10.0.0.1", "user_agent": "curl", "x_forwarded_for": true},
		"response": map[string]any{"status": float64(503), "content_length": float64(12)}}, doc["http"])
	require.Equal(t, map[string]any{"outcome": "failed", "bad_key_": float64(3)}, doc["annotations"])
	require.Equal(t, map[string]any{"default": map[string]any{"detail": map[string]any{"n": float64(1)}}}, doc["metadata"])
	ex := doc["cause"].(map[string]any)["exceptions"].([]any)[0].(map[string]any)
	require.Equal(t, "boom", ex["message"])
	require.Equal(t, "*errors.errorString", ex["type"])
	require.Regexp(t, spanIDRE, ex["id"])
	require.LessOrEqual(t, doc["start_time"].(float64), doc["end_time"].(float64))

	require.Equal(t, "DynamoDB", sub["name"])
	require.Equal(t, "subsegment", sub["type"])
	require.Equal(t, sc.TraceID, sub["trace_id"])
	require.Equal(t, sc.SpanID, sub["parent_id"])
	require.Equal(t, "aws", sub["namespace"])
	require.Equal(t, true, sub["throttle"])
	require.Equal(t, true, sub["error"])
	require.Nil(t, sub["fault"])
	require.Equal(t, map[string]any{"operation": "PutItem", "region": "us-east-1", "request_id": "r-1", "table_name": "audit", "retries": float64(2)}, sub["aws"])
	require.Equal(t, true, sub["cause"].(map[string]any)["exceptions"].([]any)[0].(map[string]any)["remote"], "a client span's error is remote")
}

func TestRemoteParentContinuesTheTrace(t *testing.T) {
	t.Parallel()
	tr, rec := setup(t)
	ctx, s := tr.Start(context.Background(), "consumer", tracing.WithKind(tracing.KindServer), tracing.RemoteParent(producerHdr))
	require.Equal(t, "1-5759e988-bd862e3fe1be46a994272793", s.Context().TraceID)
	require.Equal(t, "Root=1-5759e988-bd862e3fe1be46a994272793;Parent="+s.Context().SpanID+";Sampled=1", tracing.TraceHeader(ctx))
	require.Equal(t, s.TraceHeader(), tracing.TraceHeader(ctx))
	s.End()
	d := rec.doc(t, 0)
	require.Equal(t, "53995c3f42cd8ad8", d["parent_id"])
	require.Nil(t, d["type"], "a service entry in the producer's trace")
}

func TestNotSampledPropagatesButEmitsNothing(t *testing.T) {
	t.Parallel()
	tr, rec := setup(t)
	ctx, s := tr.Start(context.Background(), "consumer", tracing.WithKind(tracing.KindServer),
		tracing.RemoteParent("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0"))
	_, c := tr.Start(ctx, "DynamoDB", tracing.WithKind(tracing.KindClient))
	c.End()
	s.End()
	require.Zero(t, rec.count())
	require.Regexp(t, `^Root=1-5759e988-bd862e3fe1be46a994272793;Parent=[0-9a-f]{16};Sampled=0$`, tracing.TraceHeader(ctx))
}

// The parent-based sampler honours the producer's flag both ways, whatever
// the rules say; an undecided header is left to the rules.
func TestSamplingHonoursTheParentAndRulesDecideTheRest(t *testing.T) {
	t.Parallel()
	tp, rec := newProvider(t, func(c *tracing.Config) { c.Sampling = fixedSampler{false} })
	tr := tracing.NewTracer(tp)
	_, s := tr.Start(context.Background(), "c", tracing.WithKind(tracing.KindServer), tracing.RemoteParent(producerHdr))
	require.True(t, s.Context().Sampled, "Sampled=1 is honoured though the rules sample nothing")
	s.End()
	_, s = tr.Start(context.Background(), "c", tracing.WithKind(tracing.KindServer), tracing.RemoteParent("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=?"))
	require.False(t, s.Context().Sampled, "undecided: the rules (nothing)")
	s.End()
	_, s = tr.Start(context.Background(), "c", tracing.WithKind(tracing.KindServer))
	require.False(t, s.Context().Sampled, "a new trace: the rules")
	s.End()
	require.Equal(t, 1, rec.count())

	tr2, rec2 := setup(t) // rules sample everything
	_, s = tr2.Start(context.Background(), "c", tracing.WithKind(tracing.KindServer), tracing.RemoteParent("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8"))
	require.True(t, s.Context().Sampled, "no Sampled flag: the rules (everything)")
	s.End()
	require.Equal(t, 1, rec2.count())
}

func TestMalformedHeaderStartsANewTrace(t *testing.T) {
	t.Parallel()
	tr, _ := setup(t)
	_, s := tr.Start(context.Background(), "c", tracing.WithKind(tracing.KindServer), tracing.RemoteParent("Root=nonsense;Parent=xyz;Sampled=1"))
	require.Regexp(t, traceIDRE, s.Context().TraceID)
	require.NotEqual(t, "nonsense", s.Context().TraceID)
	s.End()
}

// The Lambda invocation's trace comes from the context aws-lambda-go hands
// the handler (Lambda-Runtime-Trace-Id), never from _X_AMZN_TRACE_ID.
func TestLambdaInvocationIsTheParent(t *testing.T) {
	t.Setenv("_X_AMZN_TRACE_ID", "Root=1-11111111-111111111111111111111111;Parent=1111111111111111;Sampled=1")
	tr, rec := setup(t)
	const facade = "Root=1-69a42a40-0123456789abcdef01234567;Parent=1111222233334444;Sampled=1"
	//lint:ignore SA1029 aws-lambda-go stores the header under this plain string key
	ctx := context.WithValue(context.Background(), tracing.LambdaContextKey, facade)
	require.Equal(t, facade, tracing.TraceHeader(ctx))
	require.Equal(t, "1-69a42a40-0123456789abcdef01234567", tracing.TraceID(ctx))
	_, s := tr.Start(ctx, "DynamoDB", tracing.WithKind(tracing.KindClient))
	s.End()
	d := rec.doc(t, 0)
	require.Equal(t, "1-69a42a40-0123456789abcdef01234567", d["trace_id"])
	require.Equal(t, "1111222233334444", d["parent_id"])
	require.Equal(t, "subsegment", d["type"])
}

// Concurrent invokes in one process (AWS_LAMBDA_MAX_CONCURRENCY > 1) each
// keep their own trace: it comes from each invoke's context.
func TestConcurrentInvokesNeverMixTraces(t *testing.T) {
	t.Parallel()
	tr, rec := setup(t)
	const n = 32
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			h := fmt.Sprintf("Root=1-69a42a40-%024x;Parent=%016x;Sampled=1", i+1, i+1)
			//lint:ignore SA1029 aws-lambda-go stores the header under this plain string key
			ctx := context.WithValue(context.Background(), tracing.LambdaContextKey, h)
			ctx, s := tr.Start(ctx, fmt.Sprint(i))
			_, c := tr.Start(ctx, "SQS", tracing.WithKind(tracing.KindClient))
			c.End()
			s.End()
		})
	}
	wg.Wait()
	require.Equal(t, 2*n, rec.count())
	ids := map[string]string{}
	for i := range rec.count() {
		d := rec.doc(t, i)
		ids[d["id"].(string)] = d["trace_id"].(string)
	}
	for i := range rec.count() {
		d := rec.doc(t, i)
		if d["name"] == "SQS" {
			require.Equal(t, ids[d["parent_id"].(string)], d["trace_id"], "a call is in its invoke's trace")
			continue
		}
		var k int
		_, err := fmt.Sscan(d["name"].(string), &k)
		require.NoError(t, err)
		require.Equal(t, fmt.Sprintf("1-69a42a40-%024x", k+1), d["trace_id"])
		require.Equal(t, fmt.Sprintf("%016x", k+1), d["parent_id"])
	}
}

func TestMissingContextIsReportedOnceAndNeverPanics(t *testing.T) {
	t.Parallel()
	m := &missingRecorder{}
	tp, rec := newProvider(t, func(c *tracing.Config) { c.ContextMissing = m })
	tr := tracing.NewTracer(tp)
	for range 3 {
		ctx, s := tr.Start(context.Background(), "SQS", tracing.WithKind(tracing.KindClient))
		require.False(t, s.Context().Valid())
		require.Empty(t, s.TraceHeader())
		require.Empty(t, tracing.TraceHeader(ctx))
		s.Annotate("k", "v")
		s.SetError(errors.New("x"), tracing.Fault)
		s.End()
	}
	require.Equal(t, 1, m.n())
	require.Zero(t, rec.count())
}

func TestRuntimeErrorStrategyIsRefused(t *testing.T) {
	t.Parallel()
	_, err := tracing.NewProvider(tracing.Config{Emitter: &tracingtest.Recorder{}, ContextMissing: ctxmissing.NewDefaultRuntimeErrorStrategy()})
	require.ErrorContains(t, err, "not allowed")
}

func TestDisabledProviderRecordsNothingButPropagates(t *testing.T) {
	t.Parallel()
	tp, err := tracing.NewProvider(tracing.Config{Disabled: true})
	require.NoError(t, err)
	ctx, s := tracing.NewTracer(tp).Start(context.Background(), "c", tracing.WithKind(tracing.KindServer), tracing.RemoteParent(producerHdr))
	s.End()
	require.Equal(t, producerHdr, tracing.TraceHeader(ctx), "the producer's context goes on downstream")
}

func TestErrorKindsSetTheirFlags(t *testing.T) {
	t.Parallel()
	tr, rec := setup(t)
	for _, k := range []tracing.ErrorKind{tracing.Fault, tracing.ClientError, tracing.Throttle} {
		_, s := tr.Start(context.Background(), fmt.Sprint(k), tracing.WithKind(tracing.KindServer))
		s.SetError(nil, k)
		s.End()
	}
	flags := func(d map[string]any) [3]any { return [3]any{d["fault"], d["error"], d["throttle"]} }
	require.Equal(t, [3]any{true, nil, nil}, flags(rec.doc(t, 0)))
	require.Equal(t, [3]any{nil, true, nil}, flags(rec.doc(t, 1)))
	require.Equal(t, [3]any{nil, true, true}, flags(rec.doc(t, 2)))
	require.Nil(t, rec.doc(t, 0)["cause"], "no error, no exception")
}

func TestStringsAreEscaped(t *testing.T) {
	t.Parallel()
	tr, rec := setup(t)
	_, s := tr.Start(context.Background(), "a\"b\n", tracing.WithKind(tracing.KindServer))
	s.Annotate("k", "<\u2028>\"")
	s.End()
	d := rec.doc(t, 0)
	require.Equal(t, "a\"b\n", d["name"])
	require.Equal(t, "<\u2028>\"", d["annotations"].(map[string]any)["k"])
}

func TestTraceHeaderWithoutTrace(t *testing.T) {
	t.Parallel()
	require.Empty(t, tracing.TraceHeader(context.Background()))
	require.Empty(t, tracing.TraceID(context.Background()))
	//nolint:staticcheck // nil context on purpose
	require.Empty(t, tracing.TraceHeader(nil)) //lint:ignore SA1012 nil context on purpose
}

func TestRootOfAndParseHeader(t *testing.T) {
	t.Parallel()
	require.Equal(t, "1-5759e988-bd862e3fe1be46a994272793", tracing.RootOf(producerHdr))
	require.Empty(t, tracing.RootOf("Parent=1"))
	sc, ok := tracing.ParseHeader(producerHdr)
	require.True(t, ok)
	require.Equal(t, tracing.SpanContext{TraceID: "1-5759e988-bd862e3fe1be46a994272793", SpanID: "53995c3f42cd8ad8", Sampled: true}, sc)
	require.Equal(t, producerHdr, sc.Header())
	_, ok = tracing.ParseHeader("Root=1-5759e988-bd862e3fe1be46a994272793")
	require.False(t, ok, "no parent to continue")
	require.Equal(t, "00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01", tracing.TraceParentOf(producerHdr))
}

// A service instrumented only with OpenTelemetry: its spans are seen by
// TraceHeader and as parents of offload's spans.
func TestOTelSpansAreParents(t *testing.T) {
	t.Parallel()
	sr := tracetest.NewSpanRecorder()
	own := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
	ctx, span := own.Tracer("svc").Start(context.Background(), "handler", trace.WithSpanKind(trace.SpanKindServer))
	sc := span.SpanContext()
	require.Equal(t, "Root=1-"+sc.TraceID().String()[:8]+"-"+sc.TraceID().String()[8:]+";Parent="+sc.SpanID().String()+";Sampled=1", tracing.TraceHeader(ctx))
	tr, rec := setup(t)
	_, c := tr.Start(ctx, "SQS", tracing.WithKind(tracing.KindClient))
	c.End()
	span.End()
	require.Equal(t, sc.SpanID().String(), rec.doc(t, 0)["parent_id"])
	require.Len(t, sr.Ended(), 1)
}

func TestSpanFromContextAndContextWithSpan(t *testing.T) {
	t.Parallel()
	tr, _ := setup(t)
	require.False(t, tracing.SpanFromContext(context.Background()).Context().Valid())
	_, s := tr.Start(context.Background(), "c", tracing.WithKind(tracing.KindServer))
	ctx := tracing.ContextWithSpan(context.Background(), s)
	require.Equal(t, s.Context(), tracing.SpanFromContext(ctx).Context())
	require.Equal(t, s.TraceHeader(), tracing.TraceHeader(ctx))
	s.End()
}

func ExampleNewTracer() {
	tp, _ := tracing.NewProvider(tracing.Config{Emitter: &tracingtest.Recorder{}, Sampling: fixedSampler{true}})
	defer tp.Close()
	tr := tracing.NewTracer(tp)
	ctx, seg := tr.Start(context.Background(), "example-service", tracing.WithKind(tracing.KindServer), tracing.RemoteParent(producerHdr))
	defer seg.End()
	fmt.Println(tracing.TraceID(ctx))
	// Output: 1-5759e988-bd862e3fe1be46a994272793
}

// An unset *Provider (a zero struct's field) is as good as none: its tracer
// records nothing, and nothing panics.
func TestNilProviderTracesNothingAndDoesNotPanic(t *testing.T) {
	t.Parallel()
	var unset *tracing.Provider
	tr := tracing.NewTracer(unset)
	ctx, span := tr.Start(context.Background(), "record")
	span.Annotate("k", "v")
	span.End()
	require.False(t, span.Context().Valid(), "nothing is recorded")
	require.NotNil(t, ctx)
	require.NotNil(t, tracing.FromProvider(unset))
}
