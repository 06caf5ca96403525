//go:build integration

package tracing_test

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
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
	"github.com/stretchr/testify/require"

	"github.com/offload/offload/internal/localrt"
	"github.com/offload/offload/internal/testenv"
	"github.com/offload/offload/pkg/batch"
	"github.com/offload/offload/pkg/logging"
	"github.com/offload/offload/pkg/message"
	"github.com/offload/offload/pkg/producer"
	"github.com/offload/offload/pkg/tracing"
	"github.com/offload/offload/pkg/tracing/tracingtest"
)

// One message through the real X-Ray daemon into the emulator's X-Ray API,
// read back with GetTraceSummaries and BatchGetTraces: the producer's
// segment → its SQS send → the consumer's record segment → the DynamoDB
// PutItem with its table, all in one trace.
//
// Not parallel: it installs the default tracer the AWS instrumentation uses.
func TestTraceThroughDaemonAndEmulator(t *testing.T) {
	cfg := testenv.AWSConfig(t)
	ctx := context.Background()
	daemon := startDaemon(t, cfg.Region)

	tr, err := tracing.NewXRay(tracing.Config{Daemon: daemon, Sampling: tracingtest.Always{}})
	require.NoError(t, err)
	t.Cleanup(func() { tr.Close() })
	useDefault(t, tr)

	// Setup through plain clients: not traced.
	plainSQS, plainDDB := sqs.NewFromConfig(cfg), dynamodb.NewFromConfig(cfg)
	name := testenv.UniqueName("tracing")
	q, err := plainSQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name)})
	require.NoError(t, err)
	queueURL := aws.ToString(q.QueueUrl)
	testenv.CreateTable(t, plainDDB, &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: ddbtypes.KeyTypeHash}},
		BillingMode:          ddbtypes.BillingModePayPerRequest,
	})
	t.Cleanup(func() {
		_, _ = plainSQS.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: &queueURL})
	})

	traced := cfg.Copy()
	tracing.InstrumentAWS(&traced)
	sqsClient, ddbClient := sqs.NewFromConfig(traced), dynamodb.NewFromConfig(traced)

	// Producer: a request's segment, the publish beneath it.
	start := time.Now().Add(-time.Minute)
	pctx, seg := tr.Start(ctx, "example-service", tracing.WithKind(tracing.KindServer))
	pub, err := producer.New(sqsClient, queueURL, producer.WithDefaultType(message.TypeAudit, "1"))
	require.NoError(t, err)
	res, err := pub.Publish(pctx, producer.Message{Body: `{"auditText":"traced"}`})
	require.NoError(t, err)
	seg.End()
	traceID := seg.Context().TraceID

	// Consumer: the batch processor over the received record.
	out, err := plainSQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &queueURL, WaitTimeSeconds: 5,
		MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
		MessageAttributeNames:       []string{"All"}})
	require.NoError(t, err)
	require.Len(t, out.Messages, 1)
	m := out.Messages[0]
	require.Equal(t, res.MessageID, aws.ToString(m.MessageId))
	header := m.Attributes["AWSTraceHeader"]
	require.True(t, strings.HasPrefix(header, "Root="+traceID+";Parent="), "AWSTraceHeader %q", header)

	proc, err := batch.New(func(ctx context.Context, rec events.SQSMessage) error {
		_, err := ddbClient.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(name),
			Item: map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: rec.MessageId}}})
		return err
	}, batch.WithTracer(tr), batch.WithLogger(logging.New(logging.WithLevel("error"))))
	require.NoError(t, err)
	resp, err := proc.Process(ctx, events.SQSEvent{Records: []events.SQSMessage{{
		MessageId: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle), Body: aws.ToString(m.Body),
		Attributes: m.Attributes, EventSource: "aws:sqs", AWSRegion: cfg.Region,
		EventSourceARN: "arn:aws:sqs:" + cfg.Region + ":123456789012:" + name,
	}}})
	require.NoError(t, err)
	require.Empty(t, resp.BatchItemFailures)

	// Read the trace back from the emulator.
	xr := xray.NewFromConfig(cfg)
	var docs []tracingtest.Document
	require.Eventually(t, func() bool {
		got, err := xr.BatchGetTraces(ctx, &xray.BatchGetTracesInput{TraceIds: []string{traceID}})
		if err != nil || len(got.Traces) != 1 {
			return false
		}
		docs = docs[:0]
		for _, s := range got.Traces[0].Segments {
			d, err := tracingtest.Parse([]byte(aws.ToString(s.Document)))
			require.NoError(t, err)
			docs = append(docs, d)
		}
		return len(docs) == 2
	}, 20*time.Second, 200*time.Millisecond, "two documents (producer, consumer) in trace %s", traceID)
	t.Logf("BatchGetTraces returned %d documents for %s", len(docs), traceID)

	byName := map[string]tracingtest.Document{}
	for _, d := range tracingtest.Flatten(docs...) {
		require.Equal(t, traceID, d.TraceID, "every span is in the producer's trace")
		byName[d.Name] = d
	}
	producerSeg, send, record, put := byName["example-service"], byName["SQS"], byName["sqs-consumer"], byName["DynamoDB"]
	require.Empty(t, producerSeg.ParentID, "the producer's segment is the root")
	require.Equal(t, producerSeg.ID, send.ParentID)
	require.Equal(t, "SendMessage", send.AWS["operation"])
	require.Equal(t, queueURL, send.AWS["queue_url"])
	require.Equal(t, name, send.Annotations["queue"])
	require.Equal(t, send.ID, record.ParentID, "the consumer's segment is the child of the SQS send")
	require.Equal(t, "AWS::Lambda::Function", record.Origin)
	require.Equal(t, res.MessageID, record.Annotations["message_id"])
	require.Equal(t, name, record.Annotations["queue"])
	require.Equal(t, batch.OutcomeSuccess, record.Annotations["outcome"])
	require.Equal(t, record.ID, put.ParentID)
	require.Equal(t, "PutItem", put.AWS["operation"])
	require.Equal(t, name, put.AWS["table_name"])
	require.Equal(t, name, put.Annotations["table"])
	require.Equal(t, "aws", put.Namespace)

	var raw string
	sums, err := xr.GetTraceSummaries(ctx, &xray.GetTraceSummariesInput{StartTime: aws.Time(start), EndTime: aws.Time(time.Now().Add(time.Minute))},
		func(o *xray.Options) { o.APIOptions = append(o.APIOptions, tracingtest.LenientTraceSummaries(&raw)) })
	require.NoError(t, err)
	t.Logf("GetTraceSummaries answered: %s", raw)
	var found bool
	for _, s := range sums.TraceSummaries {
		if aws.ToString(s.Id) == traceID {
			found = true
			// moto: no annotations, services or HTTP in summaries; error flags
			// from the top-level documents only.
			t.Logf("GetTraceSummaries: id=%s duration=%v hasError=%v hasFault=%v annotations=%d serviceIds=%d",
				aws.ToString(s.Id), aws.ToFloat64(s.Duration), aws.ToBool(s.HasError), aws.ToBool(s.HasFault), len(s.Annotations), len(s.ServiceIds))
		}
	}
	require.True(t, found, "trace %s in GetTraceSummaries (%d summaries)", traceID, len(sums.TraceSummaries))
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
	logs := &lockedBuffer{}
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

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
