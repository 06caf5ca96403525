package tracing_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/stretchr/testify/require"

	"github.com/offload/offload/pkg/message"
	"github.com/offload/offload/pkg/producer"
	"github.com/offload/offload/pkg/tracing"
)

// fakeAWS is an aws.HTTPClient answering each request with the next canned
// response (the last one repeats) and keeping the requests.
type fakeAWS struct {
	mu        sync.Mutex
	responses []cannedResponse
	requests  []*http.Request
	bodies    []string
}

type cannedResponse struct {
	status int
	body   string
}

func (f *fakeAWS) Do(r *http.Request) (*http.Response, error) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, r)
	f.bodies = append(f.bodies, string(body))
	resp := f.responses[min(len(f.requests)-1, len(f.responses)-1)]
	return &http.Response{
		StatusCode: resp.status,
		Header: http.Header{
			"Content-Type":     {"application/x-amz-json-1.0"},
			"X-Amzn-Requestid": {fmt.Sprintf("req-%d", len(f.requests))},
		},
		Body:          io.NopCloser(strings.NewReader(resp.body)),
		ContentLength: int64(len(resp.body)),
		Request:       r,
	}, nil
}

func (f *fakeAWS) request(t *testing.T, i int) (*http.Request, string) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	require.Greater(t, len(f.requests), i)
	return f.requests[i], f.bodies[i]
}

func awsConfig(f *fakeAWS, tp *tracing.Provider) aws.Config {
	cfg := aws.Config{
		Region: "us-east-1", Credentials: aws.AnonymousCredentials{}, HTTPClient: f,
		BaseEndpoint: aws.String("http://aws.local"),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
			})
		},
	}
	tracing.InstrumentAWS(&cfg, tp)
	return cfg
}

func sqsClient(f *fakeAWS, tp *tracing.Provider) *sqs.Client {
	return sqs.NewFromConfig(awsConfig(f, tp), func(o *sqs.Options) { o.DisableMessageChecksumValidation = true })
}

const queueURL = "http://aws.local/123456789012/offload-audit"

// The SQS send subsegment: its fields, the header downstream, and the

// A publish through pkg/producer on an instrumented client is one "SQS"
// subsegment: the SDK call's span is the producer's send span; the header
// downstream and the message's AWSTraceHeader both name it.
func TestInstrumentAWSTracesSendMessage(t *testing.T) {
	t.Parallel()
	tp, rec := newProvider(t)
	tr := tracing.NewTracer(tp)
	fake := &fakeAWS{responses: []cannedResponse{{200, `{"MessageId":"m-1"}`}}}
	pub, err := producer.New(sqsClient(fake, tp), queueURL, producer.WithDefaultType(message.TypeAudit, ""), producer.WithTracerProvider(tp))
	require.NoError(t, err)

	ctx, seg := tr.Start(context.Background(), "example-service", tracing.WithKind(tracing.KindServer))
	_, err = pub.Publish(ctx, producer.Message{Body: "{}"})
	require.NoError(t, err)
	seg.End()

	require.Equal(t, 2, rec.count(), "the send and the service's segment")
	sub := rec.doc(t, 0)
	subID := sub["id"].(string)
	want := fmt.Sprintf(`{"name":"SQS","id":%q,"trace_id":%q,"parent_id":%q,"type":"subsegment","start_time":%v,"end_time":%v,"namespace":"aws",
		"http":{"response":{"status":200,"content_length":19}},
		"aws":{"operation":"SendMessage","region":"us-east-1","request_id":"req-1","queue_url":%q,"retries":0},
		"annotations":{"queue":"offload-audit"}}`, subID, seg.Context().TraceID, seg.Context().SpanID, sub["start_time"], sub["end_time"], queueURL)
	require.JSONEq(t, want, string(rec.raw(0)))

	sendHeader := "Root=" + seg.Context().TraceID + ";Parent=" + subID + ";Sampled=1"
	req, body := fake.request(t, 0)
	require.Equal(t, sendHeader, req.Header.Get("X-Amzn-Trace-Id"), "the header downstream names the subsegment")
	var sent struct {
		MessageSystemAttributes map[string]struct{ StringValue string }
		MessageAttributes       map[string]struct{ StringValue string }
	}
	require.NoError(t, json.Unmarshal([]byte(body), &sent))
	require.Equal(t, sendHeader, sent.MessageSystemAttributes["AWSTraceHeader"].StringValue, "the message's parent is the send subsegment")
	require.Equal(t, tracing.TraceParentOf(sendHeader), sent.MessageAttributes["traceparent"].StringValue)
}

// A batch publish: one send span for the call, every entry names it.
func TestInstrumentAWSBatchSendNamesTheSend(t *testing.T) {
	t.Parallel()
	tp, rec := newProvider(t)
	fake := &fakeAWS{responses: []cannedResponse{{200, `{"Successful":[{"Id":"0","MessageId":"a"},{"Id":"1","MessageId":"b"}]}`}}}
	pub, err := producer.New(sqsClient(fake, tp), queueURL, producer.WithDefaultType(message.TypeAudit, ""), producer.WithTracerProvider(tp))
	require.NoError(t, err)
	ctx, seg := tracing.NewTracer(tp).Start(context.Background(), "svc", tracing.WithKind(tracing.KindServer))
	_, err = pub.PublishBatch(ctx, []producer.Message{{Body: "1"}, {Body: "2"}})
	require.NoError(t, err)
	seg.End()
	sends := rec.byName(t, "SQS")
	require.Len(t, sends, 1)
	require.Equal(t, "SendMessageBatch", sends[0]["aws"].(map[string]any)["operation"])
	_, body := fake.request(t, 0)
	var sent struct {
		Entries []struct {
			MessageSystemAttributes map[string]struct{ StringValue string }
		}
	}
	require.NoError(t, json.Unmarshal([]byte(body), &sent))
	require.Len(t, sent.Entries, 2)
	for _, e := range sent.Entries {
		require.Equal(t, "Root="+seg.Context().TraceID+";Parent="+sends[0]["id"].(string)+";Sampled=1", e.MessageSystemAttributes["AWSTraceHeader"].StringValue)
	}
}

func TestInstrumentAWSRecordsTableAndClientError(t *testing.T) {
	t.Parallel()
	tp, rec := newProvider(t)
	tr := tracing.NewTracer(tp)
	fake := &fakeAWS{responses: []cannedResponse{{400, `{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":"The conditional request failed"}`}}}
	client := dynamodb.NewFromConfig(awsConfig(fake, tp))
	ctx, seg := tr.Start(context.Background(), "audit-receiver", tracing.WithKind(tracing.KindServer), tracing.RemoteParent(producerHdr))
	_, err := client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("offload-audit-messages"),
		Item: map[string]ddbtypes.AttributeValue{"messageId": &ddbtypes.AttributeValueMemberS{Value: "m-1"}}})
	require.Error(t, err)
	seg.End()
	sub := awsCall(t, rec, fake, seg, "DynamoDB")
	require.Equal(t, true, sub["error"])
	require.NotContains(t, sub, "fault")
	require.NotContains(t, sub, "throttle")
	require.Equal(t, map[string]any{"operation": "PutItem", "region": "us-east-1", "request_id": "req-1", "table_name": "offload-audit-messages", "retries": float64(0)}, sub["aws"])
	require.Equal(t, map[string]any{"table": "offload-audit-messages"}, sub["annotations"])
	exc := sub["cause"].(map[string]any)["exceptions"].([]any)[0].(map[string]any)
	require.Equal(t, "*types.ConditionalCheckFailedException", exc["type"])
	require.Contains(t, exc["message"], "ConditionalCheckFailedException")
	require.Equal(t, true, exc["remote"])
}

// awsCall returns the first document rec holds, after checking that it is
// the subsegment of an AWS call to service beneath seg, a span continuing
// the producer's trace, and that fake's first request carried it on.
func awsCall(t *testing.T, rec *recorder, fake *fakeAWS, seg tracing.Span, service string) map[string]any {
	t.Helper()
	sub := rec.doc(t, 0)
	require.Equal(t, service, sub["name"])
	require.Equal(t, "aws", sub["namespace"])
	require.Equal(t, seg.Context().SpanID, sub["parent_id"])
	req, _ := fake.request(t, 0)
	require.Contains(t, req.Header.Get("X-Amzn-Trace-Id"), "Root="+producerTrace+";Parent="+sub["id"].(string))
	return sub
}

func TestInstrumentAWSCountsRetriesAndFlagsThrottles(t *testing.T) {
	t.Parallel()
	tp, rec := newProvider(t)
	fake := &fakeAWS{responses: []cannedResponse{
		{500, `{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"boom"}`},
		{200, `{}`},
		{400, `{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"slow down"}`},
	}}
	client := dynamodb.NewFromConfig(awsConfig(fake, tp))
	ctx, seg := tracing.NewTracer(tp).Start(context.Background(), "svc", tracing.WithKind(tracing.KindServer))
	in := &dynamodb.PutItemInput{TableName: aws.String("t"), Item: map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: "1"}}}
	_, err := client.PutItem(ctx, in)
	require.NoError(t, err)
	_, err = client.PutItem(ctx, in, func(o *dynamodb.Options) { o.RetryMaxAttempts = 1 })
	require.Error(t, err)
	seg.End()
	subs := rec.byName(t, "DynamoDB")
	require.Len(t, subs, 2)
	ok, throttled := subs[0], subs[1]
	require.Equal(t, float64(1), ok["aws"].(map[string]any)["retries"])
	require.Equal(t, "req-2", ok["aws"].(map[string]any)["request_id"])
	require.NotContains(t, ok, "fault", "a call that succeeded on retry is not a fault")
	require.Equal(t, true, throttled["throttle"])
	require.Equal(t, true, throttled["error"])
	require.NotContains(t, throttled, "fault")
}

// A call whose context has no trace: no subsegment, no header, one report.
func TestInstrumentAWSWithoutTraceSendsNoHeader(t *testing.T) {
	t.Parallel()
	m := &missingRecorder{}
	tp, rec := newProvider(t, func(c *tracing.Config) { c.ContextMissing = m })
	fake := &fakeAWS{responses: []cannedResponse{{200, `{"MessageId":"m-1"}`}}}
	client := sqsClient(fake, tp)
	for range 2 {
		_, err := client.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(queueURL), MessageBody: aws.String("{}")})
		require.NoError(t, err)
	}
	req, _ := fake.request(t, 1)
	require.Empty(t, req.Header.Get("X-Amzn-Trace-Id"))
	require.Empty(t, req.Header.Get("traceparent"))
	require.Zero(t, rec.count())
	require.Equal(t, 1, m.n())
}

// Inside a Lambda invocation, a call is a subsegment of the facade.
func TestInstrumentAWSUnderLambdaInvocation(t *testing.T) {
	t.Parallel()
	tp, rec := newProvider(t)
	fake := &fakeAWS{responses: []cannedResponse{{200, `{"MessageId":"m-1"}`}}}
	//lint:ignore SA1029 aws-lambda-go stores the header under this plain string key
	ctx := context.WithValue(context.Background(), "x-amzn-trace-id", producerHdr)
	_, err := sqsClient(fake, tp).SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(queueURL), MessageBody: aws.String("{}")})
	require.NoError(t, err)
	d := rec.doc(t, 0)
	require.Equal(t, "subsegment", d["type"])
	require.Equal(t, producerTrace, d["trace_id"])
	require.Equal(t, producerSend, d["parent_id"])
	req, _ := fake.request(t, 0)
	require.Equal(t, "Root="+producerTrace+";Parent="+d["id"].(string)+";Sampled=1", req.Header.Get("X-Amzn-Trace-Id"))
}

func TestInstrumentAWSNamesThePublishedTopic(t *testing.T) {
	t.Parallel()
	tp, rec := newProvider(t)
	tr := tracing.NewTracer(tp)
	fake := &fakeAWS{responses: []cannedResponse{{200, `<PublishResponse><PublishResult><MessageId>n-1</MessageId></PublishResult><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></PublishResponse>`}}}
	client := sns.NewFromConfig(awsConfig(fake, tp))
	const topic = "arn:aws:sns:us-east-1:000000000000:offload-notifications"
	ctx, seg := tr.Start(context.Background(), "dlq-alarm-handler", tracing.WithKind(tracing.KindServer), tracing.RemoteParent(producerHdr))
	_, err := client.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(topic), Message: aws.String("m")}, func(o *sns.Options) {
		o.APIOptions = append(o.APIOptions, tracing.AWSAttributes(tracing.AttrTopicARN.String(topic)))
	})
	require.NoError(t, err)
	seg.End()
	sub := awsCall(t, rec, fake, seg, "SNS")
	require.Equal(t, map[string]any{"operation": "Publish", "region": "us-east-1", "request_id": "req-1", "topic_arn": topic, "retries": float64(0)}, sub["aws"])
	require.Equal(t, float64(200), sub["http"].(map[string]any)["response"].(map[string]any)["status"])
}

// GetQueueUrl names its queue by name (the URL is the answer): the
// subsegment's queue annotation says which, so the DLQ alarm handler's
// lookups are attributable to the queue they resolve.
func TestInstrumentAWSGetQueueUrlNamesTheQueue(t *testing.T) {
	t.Parallel()
	tp, rec := newProvider(t)
	tr := tracing.NewTracer(tp)
	fake := &fakeAWS{responses: []cannedResponse{{200, `{"QueueUrl":"` + queueURL + `"}`}}}
	ctx, seg := tr.Start(context.Background(), "handler", tracing.WithKind(tracing.KindServer))
	_, err := sqsClient(fake, tp).GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("offload-audit-dlq")})
	require.NoError(t, err)
	seg.End()

	require.Equal(t, 2, rec.count())
	sub := rec.doc(t, 0)
	require.Equal(t, "SQS", sub["name"])
	require.Equal(t, map[string]any{"queue": "offload-audit-dlq"}, sub["annotations"])
	require.Equal(t, "GetQueueUrl", sub["aws"].(map[string]any)["operation"])
}
