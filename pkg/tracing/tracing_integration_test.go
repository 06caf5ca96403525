//go:build integration

package tracing_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/aws/aws-xray-sdk-go/v2/daemoncfg"
	xraysampling "github.com/aws/aws-xray-sdk-go/v2/strategy/sampling"
	xraysdk_sdk "github.com/aws/aws-xray-sdk-go/v2/xray"
	"github.com/stretchr/testify/require"
	//lint:ignore SA1019 the OTel-only service of the interop test instruments its clients with contrib's otelaws, as such services do
	"go.opentelemetry.io/contrib/instrumentation/github.com/aws/aws-sdk-go-v2/otelaws"
	xraypropagator "go.opentelemetry.io/contrib/propagators/aws/xray"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/offload/offload/internal/localrt"
	"github.com/offload/offload/internal/testenv"
	"github.com/offload/offload/pkg/batch"
	"github.com/offload/offload/pkg/logging"
	"github.com/offload/offload/pkg/logging/loggingtest"
	"github.com/offload/offload/pkg/message"
	"github.com/offload/offload/pkg/producer"
	"github.com/offload/offload/pkg/tracing"
	"github.com/offload/offload/pkg/tracing/tracingtest"
	"github.com/offload/offload/pkg/tracing/xraysdk"
)

// interopStack is what the interop tests share: a queue and a table of
// their own, an X-Ray daemon forwarding to the emulator, and the emulator's
// X-Ray API to read traces back.
type interopStack struct {
	cfg              aws.Config
	daemon           *daemoncfg.DaemonEndpoints
	queueURL, name   string
	plainSQS         *sqs.Client
	xr               *xray.Client
	functionProvider *tracing.Provider
	ddb              *dynamodb.Client
}

func newInteropStack(t *testing.T) *interopStack {
	t.Helper()
	cfg := testenv.AWSConfig(t)
	ctx := context.Background()
	s := &interopStack{cfg: cfg, daemon: startDaemon(t, cfg.Region), plainSQS: sqs.NewFromConfig(cfg), xr: xray.NewFromConfig(cfg)}
	plainDDB := dynamodb.NewFromConfig(cfg)
	s.name = testenv.UniqueName("tracing")
	q, err := s.plainSQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(s.name)})
	require.NoError(t, err)
	s.queueURL = aws.ToString(q.QueueUrl)
	testenv.CreateKeyTable(t, plainDDB, s.name, "id")
	t.Cleanup(func() {
		_, _ = s.plainSQS.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: &s.queueURL})
	})
	// The function side: its own provider, as a function builds one per
	// container.
	s.functionProvider, err = tracing.NewProvider(tracing.Config{Daemon: s.daemon, Sampling: tracingtest.Always{}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.functionProvider.Close() })
	fnCfg := cfg.Copy()
	tracing.InstrumentAWS(&fnCfg, s.functionProvider)
	s.ddb = dynamodb.NewFromConfig(fnCfg)
	return s
}

// receive waits for n messages of the queue.
func (s *interopStack) receive(t *testing.T, n int) []sqstypes.Message {
	t.Helper()
	var msgs []sqstypes.Message
	deadline := time.Now().Add(60 * time.Second)
	for len(msgs) < n && time.Now().Before(deadline) {
		out, err := s.plainSQS.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: &s.queueURL, WaitTimeSeconds: 2, MaxNumberOfMessages: 10,
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
			MessageAttributeNames:       []string{"All"}})
		require.NoError(t, err)
		msgs = append(msgs, out.Messages...)
	}
	require.Len(t, msgs, n)
	return msgs
}

// consume runs the function side — the batch processor writing each record
// to DynamoDB — over msgs as one batch of one Lambda invocation.
func (s *interopStack) consume(t *testing.T, msgs []sqstypes.Message) (facadeTrace string) {
	t.Helper()
	proc, err := batch.New(func(ctx context.Context, rec events.SQSMessage) error {
		_, err := s.ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.name),
			Item: map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: rec.MessageId}}})
		return err
	}, batch.WithTracer(tracing.NewTracer(s.functionProvider)), batch.WithLogger(logging.New(logging.WithLevel("error"))))
	require.NoError(t, err)
	recs := make([]events.SQSMessage, 0, len(msgs))
	for _, m := range msgs {
		recs = append(recs, events.SQSMessage{
			MessageId: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle), Body: aws.ToString(m.Body),
			Attributes: m.Attributes, EventSource: "aws:sqs", AWSRegion: s.cfg.Region,
			EventSourceARN: "arn:aws:sqs:" + s.cfg.Region + ":123456789012:" + s.name,
		})
	}
	facade := tracing.SpanContext{TraceID: fmt.Sprintf("1-%08x-%024x", time.Now().Unix(), time.Now().UnixNano()), SpanID: "1111222233334444", Sampled: true}
	//lint:ignore SA1029 aws-lambda-go stores the header under this plain string key
	ctx := context.WithValue(context.Background(), tracing.LambdaContextKey, facade.Header())
	resp, err := proc.Process(ctx, events.SQSEvent{Records: recs})
	require.NoError(t, err)
	require.Empty(t, resp.BatchItemFailures)
	return facade.TraceID
}

// waitForTrace polls BatchGetTraces until trace traceID holds every span
// done accepts, and returns its spans flattened.
func (s *interopStack) waitForTrace(t *testing.T, traceID string, done func([]tracingtest.Document) bool) []tracingtest.Document {
	t.Helper()
	var all []tracingtest.Document
	deadline := time.Now().Add(60 * time.Second)
	for {
		got, err := s.xr.BatchGetTraces(context.Background(), &xray.BatchGetTracesInput{TraceIds: []string{traceID}})
		require.NoError(t, err)
		all, err = tracingtest.ParseTraces(got.Traces)
		require.NoError(t, err)
		if done(all) {
			for _, d := range all {
				require.Equal(t, traceID, d.TraceID)
			}
			return all
		}
		if time.Now().After(deadline) {
			t.Fatalf("trace %s incomplete; spans: %+v", traceID, all)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// recordChain finds, in a trace's spans, the record span of message id
// beneath parent and its DynamoDB write.
func recordChain(all []tracingtest.Document, parent, messageID string) (record, write tracingtest.Document) {
	for _, d := range all {
		if d.ParentID == parent && d.Origin == "AWS::Lambda::Function" && d.Annotations["message_id"] == messageID {
			record = d
		}
	}
	for _, d := range all {
		if record.ID != "" && d.ParentID == record.ID && d.Name == "DynamoDB" && d.Namespace == "aws" && d.AWS["operation"] == "PutItem" {
			write = d
		}
	}
	return record, write
}

// (a) A service instrumented only with OpenTelemetry — its own SDK
// provider, X-Ray ID generator, spans exported to the daemon — publishes
// through pkg/producer: the emulator's X-Ray shows its span, the SQS send,
// the function's record span and the DynamoDB write in one trace.
func TestInteropOTelServiceJoinsTheFunctionsTrace(t *testing.T) {
	t.Parallel()
	s := newInteropStack(t)
	udp, err := tracing.NewUDPEmitter(s.daemon)
	require.NoError(t, err)
	own := sdktrace.NewTracerProvider(sdktrace.WithIDGenerator(xraypropagator.NewIDGenerator()),
		sdktrace.WithSpanProcessor(sdktrace.NewSimpleSpanProcessor(tracing.NewExporter(udp, tracing.ExporterOptions{}))))
	t.Cleanup(func() { _ = own.Shutdown(context.Background()); _ = udp.Close() })
	svcCfg := s.cfg.Copy()
	otelaws.AppendMiddlewares(&svcCfg.APIOptions, otelaws.WithTracerProvider(own), otelaws.WithTextMapPropagator(xraypropagator.Propagator{}))
	pub, err := producer.New(sqs.NewFromConfig(svcCfg), s.queueURL, producer.WithDefaultType(message.TypeAudit, "1"), producer.WithTracerProvider(own))
	require.NoError(t, err)

	ctx, span := own.Tracer("otel-service").Start(context.Background(), "otel-service", trace.WithSpanKind(trace.SpanKindServer))
	res, err := pub.Publish(ctx, producer.Message{Body: `{"auditText":"otel"}`})
	require.NoError(t, err)
	span.End()
	traceID := tracing.SpanFromContext(ctx).Context().TraceID

	msgs := s.receive(t, 1)
	require.True(t, strings.HasPrefix(msgs[0].Attributes["AWSTraceHeader"], "Root="+traceID+";Parent="), msgs[0].Attributes["AWSTraceHeader"])
	require.NotEmpty(t, msgs[0].MessageAttributes[tracing.W3CTraceParentAttr].StringValue, "a W3C traceparent for consumers outside X-Ray")
	s.consume(t, msgs)

	var svc, send, record, write tracingtest.Document
	s.waitForTrace(t, traceID, func(all []tracingtest.Document) bool {
		for _, d := range all {
			if d.Name == "otel-service" && d.ParentID == "" && d.Type == "" {
				svc = d
			}
		}
		send = tracingtest.Document{}
		for _, d := range all {
			if svc.ID != "" && d.Name == "SQS" && d.ParentID == svc.ID && d.AWS["operation"] == "SendMessage" {
				send = d
			}
		}
		record, write = recordChain(all, send.ID, res.MessageID)
		return send.ID != "" && write.ID != ""
	})
	require.Equal(t, s.queueURL, send.AWS["queue_url"])
	require.Equal(t, s.name, write.AWS["table_name"])
	require.Equal(t, s.name, write.Annotations["table"])
	require.Equal(t, batch.OutcomeSuccess, record.Annotations["outcome"])
	require.Empty(t, record.Type, "the record is a segment of the producer's trace")
}

// (b) A producer on the full X-Ray SDK (pkg/tracing/xraysdk, legacy) still
// joins: the record's parent is the SDK's segment.
func TestInteropXRaySDKProducerStillJoins(t *testing.T) {
	t.Parallel()
	s := newInteropStack(t)
	xraysdk.Register()
	em, err := xraysdk_sdk.NewDefaultEmitter(s.daemon.UDPAddr)
	require.NoError(t, err)
	sdkCtx, err := xraysdk_sdk.ContextWithConfig(context.Background(), xraysdk_sdk.Config{Emitter: em, SamplingStrategy: alwaysSDK(t)})
	require.NoError(t, err)
	ctx, seg := xraysdk_sdk.BeginSegment(sdkCtx, "xray-sdk-service")
	pub, err := producer.New(sqs.NewFromConfig(s.cfg), s.queueURL, producer.WithDefaultType(message.TypeAudit, "1"))
	require.NoError(t, err)
	res, err := pub.Publish(ctx, producer.Message{Body: `{"auditText":"sdk"}`})
	require.NoError(t, err)
	seg.Close(nil)
	traceID := seg.TraceID

	msgs := s.receive(t, 1)
	require.Equal(t, "Root="+traceID+";Parent="+seg.ID+";Sampled=1", msgs[0].Attributes["AWSTraceHeader"])
	s.consume(t, msgs)
	var record, write tracingtest.Document
	all := s.waitForTrace(t, traceID, func(all []tracingtest.Document) bool {
		record, write = recordChain(all, seg.ID, res.MessageID)
		return write.ID != ""
	})
	var sawSDK bool
	for _, d := range all {
		sawSDK = sawSDK || (d.ID == seg.ID && d.Name == "xray-sdk-service")
	}
	require.True(t, sawSDK, "the SDK's segment is in the trace")
	require.Equal(t, s.name, write.AWS["table_name"])
	require.Equal(t, batch.OutcomeSuccess, record.Annotations["outcome"])
}

// (c) One batch mixing three producers' traces yields three traces, each
// holding its record's processing; the invocation's span, in the Lambda
// invocation's trace, links to all three.
func TestInteropBatchOfThreeProducersIsThreeTraces(t *testing.T) {
	t.Parallel()
	s := newInteropStack(t)
	tp, err := tracing.NewProvider(tracing.Config{Daemon: s.daemon, Sampling: tracingtest.Always{}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = tp.Close() })
	pcfg := s.cfg.Copy()
	tracing.InstrumentAWS(&pcfg, tp)
	pub, err := producer.New(sqs.NewFromConfig(pcfg), s.queueURL, producer.WithDefaultType(message.TypeAudit, "1"), producer.WithTracerProvider(tp))
	require.NoError(t, err)
	tr := tracing.NewTracer(tp)
	traces := map[string]string{} // message id → trace id
	for i := range 3 {
		ctx, seg := tr.Start(context.Background(), fmt.Sprintf("producer-%d", i), tracing.WithKind(tracing.KindServer))
		res, err := pub.Publish(ctx, producer.Message{Body: fmt.Sprintf(`{"n":%d}`, i)})
		require.NoError(t, err)
		seg.End()
		traces[res.MessageID] = seg.Context().TraceID
	}
	msgs := s.receive(t, 3)
	facadeTrace := s.consume(t, msgs)

	var links []tracingtest.Link
	for _, m := range msgs {
		id := aws.ToString(m.MessageId)
		traceID := traces[id]
		var record, write tracingtest.Document
		s.waitForTrace(t, traceID, func(all []tracingtest.Document) bool {
			for _, d := range all {
				if d.Name == "SQS" {
					record, write = recordChain(all, d.ID, id)
				}
			}
			return write.ID != ""
		})
		require.Len(t, record.Links(), 1, "the record links to the invocation")
		links = append(links, tracingtest.Link{TraceID: traceID, ID: record.ParentID})
	}
	inv := s.waitForTrace(t, facadeTrace, func(all []tracingtest.Document) bool {
		return len(all) > 0 && all[0].Name == "Process"
	})[0]
	require.Equal(t, "1111222233334444", inv.ParentID)
	require.ElementsMatch(t, links, inv.Links())
}

func alwaysSDK(t *testing.T) *xraysampling.LocalizedStrategy {
	t.Helper()
	st, err := xraysampling.NewLocalizedStrategyFromJSONBytes([]byte(`{"version":2,"default":{"fixed_target":1,"rate":1}}`))
	require.NoError(t, err)
	return st
}

// startDaemon runs the X-Ray daemon (bin/xray-daemon, built from tools/ when
// missing) in local mode on a free loopback port, forwarding to
// AWS_ENDPOINT_URL.
func startDaemon(t *testing.T, region string) *daemoncfg.DaemonEndpoints {
	t.Helper()
	bin, err := filepath.Abs(filepath.Join("..", "..", "bin", "xray-daemon"))
	require.NoError(t, err)
	if _, err := os.Stat(bin); errors.Is(err, os.ErrNotExist) {
		bin = filepath.Join(t.TempDir(), "xray-daemon")
		build := exec.Command("go", "build", "-o", bin, "github.com/aws/aws-xray-daemon/daemon")
		build.Dir = filepath.Join("..", "..", "tools")
		out, err := build.CombinedOutput()
		require.NoError(t, err, "build the X-Ray daemon (make xray-daemon): %s", out)
	}
	logs := &loggingtest.Buffer{}
	d, err := localrt.StartTraceDaemon(bin, testenv.Endpoint(t), region, logs)
	require.NoError(t, err)
	t.Cleanup(func() {
		d.Stop()
		if t.Failed() {
			t.Logf("X-Ray daemon log:\n%s", logs.String())
		}
	})
	udp, err := net.ResolveUDPAddr("udp", d.Addr)
	require.NoError(t, err)
	tcp, err := net.ResolveTCPAddr("tcp", d.Addr)
	require.NoError(t, err)
	return &daemoncfg.DaemonEndpoints{UDPAddr: udp, TCPAddr: tcp}
}
