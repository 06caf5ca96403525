package tracing_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-xray-sdk-go/v2/strategy/ctxmissing"
	"github.com/stretchr/testify/require"

	"github.com/offload/offload/pkg/tracing"
)

var (
	headerRE  = regexp.MustCompile(`^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=[01]$`)
	traceIDRE = regexp.MustCompile(`^1-[0-9a-f]{8}-[0-9a-f]{24}$`)
)

// The document of a new trace, with a nested subsegment, field for field.
func TestSegmentDocumentIsExact(t *testing.T) {
	t.Parallel()
	tr, rec := setup(t)
	ctx, seg := tr.Start(context.Background(), "example-service", tracing.WithKind(tracing.KindServer), tracing.WithOrigin("AWS::EC2::Instance"))
	seg.Annotate("tenant", "t-1")
	seg.Annotate("attempt", 2)
	seg.Annotate("fast", true)
	seg.Annotate("ratio", 0.5)
	seg.Annotate("bad key!", "x")
	seg.Metadata("request", map[string]any{"size": 3})
	seg.SetHTTP(tracing.HTTP{Method: "POST", URL: "http://127.0.0.1:8080/audit", ClientIP: "10.0.0.1", UserAgent: "curl/8", Status: 202, ContentLength: 40})

	_, sub := tr.Start(ctx, "DynamoDB", tracing.WithKind(tracing.KindClient))
	sub.SetAWS(tracing.AWSCall{Operation: "PutItem", Region: "us-east-1", RequestID: "req-1", TableName: "audit", Retries: 1})
	sub.SetHTTP(tracing.HTTP{Status: 400})
	sub.SetError(errors.New(`conditional check "failed"`), tracing.ClientError)
	sub.End()
	require.Zero(t, rec.count(), "a subsegment travels with its open segment")
	seg.End()
	seg.End()
	require.Equal(t, 1, rec.count(), "one document, sent once")

	sc, subc := seg.Context(), sub.Context()
	require.Regexp(t, traceIDRE, sc.TraceID)
	require.True(t, strings.HasPrefix(sc.TraceID, "1-69a42a40-"), "trace id starts with the epoch seconds in hex: %s", sc.TraceID)
	require.Equal(t, sc.TraceID, subc.TraceID)
	got := rec.doc(t, 0)
	cause := got["subsegments"].([]any)[0].(map[string]any)["cause"].(map[string]any)
	excID := cause["exceptions"].([]any)[0].(map[string]any)["id"].(string)
	require.Regexp(t, `^[0-9a-f]{16}$`, excID)
	want := fmt.Sprintf(`{
		"name": "example-service", "id": %q, "trace_id": %q,
		"start_time": 1772366400.001, "end_time": 1772366400.004,
		"origin": "AWS::EC2::Instance",
		"http": {"request": {"method": "POST", "url": "http://127.0.0.1:8080/audit", "client_ip": "10.0.0.1", "user_agent": "curl/8"},
		         "response": {"status": 202, "content_length": 40}},
		"annotations": {"tenant": "t-1", "attempt": 2, "fast": true, "ratio": 0.5, "bad_key_": "x"},
		"metadata": {"default": {"request": {"size": 3}}},
		"subsegments": [{
			"name": "DynamoDB", "id": %q,
			"start_time": 1772366400.002, "end_time": 1772366400.003,
			"namespace": "aws", "error": true,
			"cause": {"exceptions": [{"id": %q, "message": "conditional check \"failed\"", "type": "*errors.errorString", "remote": true}]},
			"http": {"response": {"status": 400}},
			"aws": {"operation": "PutItem", "region": "us-east-1", "request_id": "req-1", "table_name": "audit", "retries": 1}
		}]
	}`, sc.SpanID, sc.TraceID, subc.SpanID, excID)
	require.JSONEq(t, want, rec.raw(t, 0))
}

// A consumer continues the producer's trace: a segment whose parent is the
// header's Parent.
func TestRemoteParentContinuesTheTrace(t *testing.T) {
	t.Parallel()
	tr, rec := setup(t, func(o *setupOpts) { o.sample = false })
	ctx, seg := tr.Start(context.Background(), "audit-receiver", tracing.WithKind(tracing.KindServer),
		tracing.RemoteParent(producerHdr), tracing.WithOrigin("AWS::Lambda::Function"))
	seg.Annotate("message_id", "m-1")
	require.Equal(t, "Root="+producerTrace+";Parent="+seg.Context().SpanID+";Sampled=1", tracing.TraceHeader(ctx))
	require.Equal(t, producerTrace, tracing.TraceID(ctx))
	seg.End()
	want := fmt.Sprintf(`{"name":"audit-receiver","id":%q,"trace_id":%q,"parent_id":%q,
		"start_time":1772366400.001,"end_time":1772366400.002,"origin":"AWS::Lambda::Function",
		"annotations":{"message_id":"m-1"}}`, seg.Context().SpanID, producerTrace, producerSend)
	require.JSONEq(t, want, rec.raw(t, 0), "Sampled=1 wins over the tracer's own rules (which sample nothing here)")
}

func TestNotSampledPropagatesButEmitsNothing(t *testing.T) {
	t.Parallel()
	tr, rec := setup(t)
	h := "Root=" + producerTrace + ";Parent=" + producerSend + ";Sampled=0"
	ctx, seg := tr.Start(context.Background(), "consumer", tracing.WithKind(tracing.KindServer), tracing.RemoteParent(h))
	cctx, sub := tr.Start(ctx, "SQS", tracing.WithKind(tracing.KindClient))
	require.Regexp(t, headerRE, tracing.TraceHeader(cctx))
	require.True(t, strings.HasSuffix(tracing.TraceHeader(cctx), ";Sampled=0"))
	require.Contains(t, tracing.TraceHeader(cctx), "Root="+producerTrace)
	sub.Annotate("queue", "q")
	sub.SetError(errors.New("x"), tracing.Fault)
	sub.End()
	seg.End()
	require.Zero(t, rec.count())
}

func TestUndecidedHeaderIsSampledByTheRules(t *testing.T) {
	t.Parallel()
	for _, sample := range []bool{true, false} {
		tr, rec := setup(t, func(o *setupOpts) { o.sample = sample })
		for _, h := range []string{"Root=" + producerTrace, "Root=" + producerTrace + ";Sampled=?"} {
			_, seg := tr.Start(context.Background(), "svc", tracing.WithKind(tracing.KindServer), tracing.RemoteParent(h))
			require.Equal(t, producerTrace, seg.Context().TraceID)
			require.Equal(t, sample, seg.Context().Sampled)
			seg.End()
		}
		want := map[bool]int{true: 2, false: 0}[sample]
		require.Equal(t, want, rec.count())
		if sample {
			_, hasParent := rec.doc(t, 0)["parent_id"]
			require.False(t, hasParent, "a header without Parent gives a segment without parent_id")
		}
	}
}

func TestMalformedHeaderStartsANewTrace(t *testing.T) {
	t.Parallel()
	tr, _ := setup(t)
	for _, h := range []string{"Root=1-xyz;Parent=53995c3f42cd8ad8;Sampled=1", "Parent=53995c3f42cd8ad8", "garbage"} {
		_, seg := tr.Start(context.Background(), "svc", tracing.WithKind(tracing.KindServer), tracing.RemoteParent(h))
		require.Regexp(t, traceIDRE, seg.Context().TraceID, h)
		require.NotEqual(t, "1-xyz", seg.Context().TraceID)
	}
}

// Inside a Lambda invocation without a span, a span is a subsegment of the
// invocation's facade, sent on its own.
func TestLambdaInvocationIsTheParent(t *testing.T) {
	t.Parallel()
	tr, rec := setup(t)
	const facade = "Root=1-69a42a40-0123456789abcdef01234567;Parent=1111222233334444;Sampled=1"
	//lint:ignore SA1029 aws-lambda-go stores the header under this plain string key
	ctx := context.WithValue(context.Background(), "x-amzn-trace-id", facade)
	require.Equal(t, facade, tracing.TraceHeader(ctx))
	_, sub := tr.Start(ctx, "SNS", tracing.WithKind(tracing.KindClient))
	sub.SetAWS(tracing.AWSCall{Operation: "Publish", TopicARN: "arn:aws:sns:us-east-1:1:alerts"})
	sub.End()
	want := fmt.Sprintf(`{"name":"SNS","id":%q,"trace_id":"1-69a42a40-0123456789abcdef01234567","parent_id":"1111222233334444",
		"type":"subsegment","start_time":1772366400.001,"end_time":1772366400.002,"namespace":"aws",
		"aws":{"operation":"Publish","topic_arn":"arn:aws:sns:us-east-1:1:alerts","retries":0}}`, sub.Context().SpanID)
	require.JSONEq(t, want, rec.raw(t, 0))

	//lint:ignore SA1029 aws-lambda-go stores the header under this plain string key
	unsampled := context.WithValue(context.Background(), "x-amzn-trace-id", strings.Replace(facade, "Sampled=1", "Sampled=0", 1))
	_, sub = tr.Start(unsampled, "SNS", tracing.WithKind(tracing.KindClient))
	sub.End()
	require.Equal(t, 1, rec.count(), "a facade with Sampled=0 records nothing")
}

func TestMissingContextIsReportedOnceAndNeverPanics(t *testing.T) {
	t.Parallel()
	missing := &countingMissing{}
	tr, rec := setup(t, func(o *setupOpts) { o.missing = missing })
	for range 3 {
		ctx, span := tr.Start(context.Background(), "DynamoDB", tracing.WithKind(tracing.KindClient))
		require.Equal(t, context.Background(), ctx, "ctx is returned unchanged")
		require.False(t, span.Context().Valid())
		require.Empty(t, span.TraceHeader())
		span.Annotate("k", "v")
		span.SetError(errors.New("x"), tracing.Fault)
		span.End()
	}
	require.Len(t, missing.calls, 1)
	require.Contains(t, missing.calls[0], `"DynamoDB" started with no trace in its context`)
	require.Zero(t, rec.count())
}

func TestRuntimeErrorStrategyIsRefused(t *testing.T) {
	t.Parallel()
	_, err := tracing.NewXRay(tracing.Config{Emitter: &recorder{}, ContextMissing: ctxmissing.NewDefaultRuntimeErrorStrategy()})
	require.ErrorContains(t, err, "not allowed")
}

// A child that ends after its parent is sent on its own.
func TestLateChildIsSentOnItsOwn(t *testing.T) {
	t.Parallel()
	tr, rec := setup(t)
	ctx, seg := tr.Start(context.Background(), "svc", tracing.WithKind(tracing.KindServer))
	_, late := tr.Start(ctx, "async")
	seg.End()
	late.End()
	require.Equal(t, 2, rec.count())
	_, nested := rec.doc(t, 0)["subsegments"]
	require.False(t, nested)
	got := rec.doc(t, 1)
	require.Equal(t, "subsegment", got["type"])
	require.Equal(t, seg.Context().SpanID, got["parent_id"])
	require.Equal(t, seg.Context().TraceID, got["trace_id"])
}

func TestManyChildrenConcurrently(t *testing.T) {
	t.Parallel()
	tr, rec := setup(t)
	ctx, seg := tr.Start(context.Background(), "svc", tracing.WithKind(tracing.KindServer))
	var wg sync.WaitGroup
	for i := range 80 {
		wg.Go(func() {
			_, s := tr.Start(ctx, fmt.Sprintf("child-%d", i))
			s.Annotate("i", i)
			s.End()
		})
	}
	wg.Wait()
	seg.End()
	// 50 nested in the segment's document, the other 30 sent on their own.
	require.Equal(t, 31, rec.count())
	var nested, alone int
	for i := range rec.count() {
		d := rec.doc(t, i)
		if subs, ok := d["subsegments"].([]any); ok {
			nested += len(subs)
		}
		if d["type"] == "subsegment" {
			alone++
		}
	}
	require.Equal(t, 50, nested)
	require.Equal(t, 30, alone)
}

func TestTraceHeaderWithoutTrace(t *testing.T) {
	t.Parallel()
	require.Empty(t, tracing.TraceHeader(context.Background()))
	require.Empty(t, tracing.TraceID(context.Background()))
	//lint:ignore SA1012 a nil context must not panic either
	require.Empty(t, tracing.TraceHeader(nil))
	//lint:ignore SA1012 a nil context must not panic either
	require.Empty(t, tracing.TraceID(nil))
	_, ok := tracing.ParentFromContext(context.Background())
	require.False(t, ok)
}

func TestTraceHeaderFromLambdaContext(t *testing.T) {
	t.Parallel()
	//lint:ignore SA1029 aws-lambda-go stores the header under this plain string key
	ctx := context.WithValue(context.Background(), "x-amzn-trace-id", producerHdr)
	require.Equal(t, producerHdr, tracing.TraceHeader(ctx))
	require.Equal(t, producerTrace, tracing.TraceID(ctx))
}

// Not parallel: AllocsPerRun.
func TestTraceHeaderOfASpanDoesNotAllocate(t *testing.T) {
	tr, _ := setup(t)
	ctx, seg := tr.Start(context.Background(), "svc", tracing.WithKind(tracing.KindServer))
	require.Regexp(t, headerRE, tracing.TraceHeader(ctx))
	require.Equal(t, seg.TraceHeader(), tracing.TraceHeader(ctx))
	require.Zero(t, testing.AllocsPerRun(100, func() { _ = tracing.TraceHeader(ctx) }))
}

func TestRootOf(t *testing.T) {
	t.Parallel()
	require.Equal(t, "1-abc-def", tracing.RootOf("Sampled=1; Root=1-abc-def;Parent=x"))
	require.Empty(t, tracing.RootOf(""))
	require.Empty(t, tracing.RootOf("Parent=x"))
}

func TestSpanContextHeader(t *testing.T) {
	t.Parallel()
	require.Equal(t, producerHdr, tracing.SpanContext{TraceID: producerTrace, SpanID: producerSend, Sampled: true}.Header())
	require.Equal(t, "Root="+producerTrace+";Sampled=0", tracing.SpanContext{TraceID: producerTrace}.Header())
	require.Empty(t, tracing.SpanContext{}.Header())
}

// Not parallel: the parent source is process-wide.
func TestRegisteredParentSourceIsSeen(t *testing.T) {
	type sdkKey struct{}
	tracing.RegisterParentSource(func(ctx context.Context) (tracing.SpanContext, bool) {
		sc, ok := ctx.Value(sdkKey{}).(tracing.SpanContext)
		return sc, ok
	})
	t.Cleanup(func() { tracing.RegisterParentSource(nil) })
	tr, rec := setup(t)
	ctx := context.WithValue(context.Background(), sdkKey{}, tracing.SpanContext{TraceID: producerTrace, SpanID: producerSend, Sampled: true})
	require.Equal(t, producerHdr, tracing.TraceHeader(ctx))
	require.Equal(t, producerTrace, tracing.TraceID(ctx))
	_, sub := tr.Start(ctx, "SQS", tracing.WithKind(tracing.KindClient))
	sub.End()
	got := rec.doc(t, 0)
	require.Equal(t, producerSend, got["parent_id"])
	require.Equal(t, "subsegment", got["type"])
}

func TestDisabledTracerRecordsNothing(t *testing.T) {
	t.Parallel()
	tr, err := tracing.NewXRay(tracing.Config{Disabled: true})
	require.NoError(t, err)
	ctx, span := tr.Start(context.Background(), "svc", tracing.WithKind(tracing.KindServer))
	require.False(t, span.Context().Valid())
	require.Empty(t, tracing.TraceHeader(ctx))
	span.End()
}

func TestSpanFromContext(t *testing.T) {
	t.Parallel()
	tr, _ := setup(t)
	require.False(t, tracing.SpanFromContext(context.Background()).Context().Valid())
	ctx, seg := tr.Start(context.Background(), "svc", tracing.WithKind(tracing.KindServer))
	require.Equal(t, seg, tracing.SpanFromContext(ctx))
	moved := tracing.ContextWithSpan(context.Background(), seg)
	require.Equal(t, seg.TraceHeader(), tracing.TraceHeader(moved))
}

func TestErrorKindsSetTheirFlags(t *testing.T) {
	t.Parallel()
	tr, rec := setup(t)
	for i, k := range []tracing.ErrorKind{tracing.Fault, tracing.ClientError, tracing.Throttle} {
		_, s := tr.Start(context.Background(), "svc", tracing.WithKind(tracing.KindServer))
		s.SetError(nil, k)
		s.End()
		d := rec.doc(t, i)
		_, hasCause := d["cause"]
		require.False(t, hasCause, "no error, no cause")
		flags := map[string]bool{}
		for _, f := range []string{"error", "fault", "throttle"} {
			if v, ok := d[f].(bool); ok && v {
				flags[f] = true
			}
		}
		require.Equal(t, []map[string]bool{{"fault": true}, {"error": true}, {"error": true, "throttle": true}}[i], flags)
	}
}

func TestStringsAreEscaped(t *testing.T) {
	t.Parallel()
	tr, rec := setup(t)
	_, s := tr.Start(context.Background(), "na\"me\n", tracing.WithKind(tracing.KindServer))
	s.Annotate("k", "tab\there \x01 bad\xff utf8 é")
	s.End()
	d := rec.doc(t, 0)
	require.Equal(t, "na\"me\n", d["name"])
	require.Equal(t, "tab\there \x01 bad\uFFFD utf8 é", d["annotations"].(map[string]any)["k"])
}

func ExampleTraceHeader() {
	// Without a span (or a Lambda invocation) there is nothing to pass on.
	fmt.Printf("%q\n", tracing.TraceHeader(context.Background()))
	// Output: ""
}

func ExampleXRay_Start() {
	rec := &recorder{}
	tr, _ := tracing.NewXRay(tracing.Config{Emitter: rec, Sampling: fixedSampler{true}})
	// A consumer continues the trace of the message's AWSTraceHeader.
	ctx, span := tr.Start(context.Background(), "audit-receiver", tracing.WithKind(tracing.KindServer),
		tracing.RemoteParent("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"),
		tracing.WithOrigin("AWS::Lambda::Function"))
	span.Annotate("outcome", "success")
	fmt.Println(tracing.TraceID(ctx))
	span.End()
	fmt.Println(rec.count(), "document sent")
	// Output:
	// 1-5759e988-bd862e3fe1be46a994272793
	// 1 document sent
}
