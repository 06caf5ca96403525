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
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/require"

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

func awsConfig(f *fakeAWS) aws.Config {
	cfg := aws.Config{
		Region: "us-east-1", Credentials: aws.AnonymousCredentials{}, HTTPClient: f,
		BaseEndpoint: aws.String("http://aws.local"),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
			})
		},
	}
	tracing.InstrumentAWS(&cfg)
	return cfg
}

func sqsClient(f *fakeAWS) *sqs.Client {
	return sqs.NewFromConfig(awsConfig(f), func(o *sqs.Options) { o.DisableMessageChecksumValidation = true })
}

const queueURL = "http://aws.local/123456789012/offload-audit"

// The SQS send subsegment: its fields, the header downstream, and the
// message's AWSTraceHeader pointing at it.
func TestInstrumentAWSTracesSendMessage(t *testing.T) {
	tr, rec := setup(t)
	useDefault(t, tr)
	fake := &fakeAWS{responses: []cannedResponse{{200, `{"MessageId":"m-1"}`}}}
	client := sqsClient(fake)

	ctx, seg := tr.Start(context.Background(), "example-service", tracing.WithKind(tracing.KindServer))
	producerHeader := tracing.TraceHeader(ctx) // what pkg/producer puts in the message
	_, err := client.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl: aws.String(queueURL), MessageBody: aws.String("{}"),
		MessageSystemAttributes: map[string]sqstypes.MessageSystemAttributeValue{
			"AWSTraceHeader": {DataType: aws.String("String"), StringValue: aws.String(producerHeader)},
		},
	})
	require.NoError(t, err)
	seg.End()

	require.Equal(t, 1, rec.count())
	doc := rec.doc(t, 0)
	subs := doc["subsegments"].([]any)
	require.Len(t, subs, 1)
	sub := subs[0].(map[string]any)
	subID := sub["id"].(string)
	want := fmt.Sprintf(`{"name":"SQS","id":%q,"start_time":%v,"end_time":%v,"namespace":"aws",
		"http":{"response":{"status":200,"content_length":19}},
		"aws":{"operation":"SendMessage","region":"us-east-1","request_id":"req-1","queue_url":%q,"retries":0},
		"annotations":{"queue":"offload-audit"}}`, subID, sub["start_time"], sub["end_time"], queueURL)
	gotSub, _ := json.Marshal(sub)
	require.JSONEq(t, want, string(gotSub))

	sendHeader := "Root=" + seg.Context().TraceID + ";Parent=" + subID + ";Sampled=1"
	req, body := fake.request(t, 0)
	require.Equal(t, sendHeader, req.Header.Get("X-Amzn-Trace-Id"), "the header downstream names the subsegment")
	var sent struct {
		MessageSystemAttributes map[string]struct{ StringValue string }
	}
	require.NoError(t, json.Unmarshal([]byte(body), &sent))
	require.Equal(t, sendHeader, sent.MessageSystemAttributes["AWSTraceHeader"].StringValue,
		"the message's parent is the send subsegment")
}

func TestInstrumentAWSRepointsEveryBatchEntryOfTheTraceOnly(t *testing.T) {
	tr, rec := setup(t)
	useDefault(t, tr)
	fake := &fakeAWS{responses: []cannedResponse{{200, `{"Successful":[{"Id":"0","MessageId":"a"},{"Id":"1","MessageId":"b"},{"Id":"2","MessageId":"c"}]}`}}}
	client := sqsClient(fake)
	ctx, seg := tr.Start(context.Background(), "svc", tracing.WithKind(tracing.KindServer))
	shared := map[string]sqstypes.MessageSystemAttributeValue{
		"AWSTraceHeader": {DataType: aws.String("String"), StringValue: aws.String(tracing.TraceHeader(ctx))},
	}
	foreign := map[string]sqstypes.MessageSystemAttributeValue{
		"AWSTraceHeader": {DataType: aws.String("String"), StringValue: aws.String(producerHdr)},
	}
	_, err := client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(queueURL), Entries: []sqstypes.SendMessageBatchRequestEntry{
		{Id: aws.String("0"), MessageBody: aws.String("a"), MessageSystemAttributes: shared},
		{Id: aws.String("1"), MessageBody: aws.String("b"), MessageSystemAttributes: shared},
		{Id: aws.String("2"), MessageBody: aws.String("c"), MessageSystemAttributes: foreign},
	}})
	require.NoError(t, err)
	seg.End()
	subID := rec.doc(t, 0)["subsegments"].([]any)[0].(map[string]any)["id"].(string)
	_, body := fake.request(t, 0)
	var sent struct {
		Entries []struct {
			MessageSystemAttributes map[string]struct{ StringValue string }
		}
	}
	require.NoError(t, json.Unmarshal([]byte(body), &sent))
	require.Len(t, sent.Entries, 3)
	for i := range 2 {
		require.Equal(t, "Root="+seg.Context().TraceID+";Parent="+subID+";Sampled=1", sent.Entries[i].MessageSystemAttributes["AWSTraceHeader"].StringValue)
	}
	require.Equal(t, producerHdr, sent.Entries[2].MessageSystemAttributes["AWSTraceHeader"].StringValue,
		"a header of another trace is the caller's choice and stays")
}

func TestInstrumentAWSRecordsTableAndClientError(t *testing.T) {
	tr, rec := setup(t)
	useDefault(t, tr)
	fake := &fakeAWS{responses: []cannedResponse{{400, `{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":"The conditional request failed"}`}}}
	client := dynamodb.NewFromConfig(awsConfig(fake))
	ctx, seg := tr.Start(context.Background(), "audit-receiver", tracing.WithKind(tracing.KindServer), tracing.RemoteParent(producerHdr))
	_, err := client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("offload-audit-messages"),
		Item: map[string]ddbtypes.AttributeValue{"messageId": &ddbtypes.AttributeValueMemberS{Value: "m-1"}}})
	require.Error(t, err)
	seg.End()
	sub := rec.doc(t, 0)["subsegments"].([]any)[0].(map[string]any)
	require.Equal(t, "DynamoDB", sub["name"])
	require.Equal(t, true, sub["error"])
	require.NotContains(t, sub, "fault")
	require.NotContains(t, sub, "throttle")
	require.Equal(t, map[string]any{"operation": "PutItem", "region": "us-east-1", "request_id": "req-1", "table_name": "offload-audit-messages", "retries": float64(0)}, sub["aws"])
	require.Equal(t, map[string]any{"table": "offload-audit-messages"}, sub["annotations"])
	exc := sub["cause"].(map[string]any)["exceptions"].([]any)[0].(map[string]any)
	require.Equal(t, "*types.ConditionalCheckFailedException", exc["type"])
	require.Contains(t, exc["message"], "ConditionalCheckFailedException")
	require.Equal(t, true, exc["remote"])
	req, _ := fake.request(t, 0)
	require.Contains(t, req.Header.Get("X-Amzn-Trace-Id"), "Root="+producerTrace+";Parent="+sub["id"].(string))
}

func TestInstrumentAWSCountsRetriesAndFlagsThrottles(t *testing.T) {
	tr, rec := setup(t)
	useDefault(t, tr)
	fake := &fakeAWS{responses: []cannedResponse{
		{500, `{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"boom"}`},
		{200, `{}`},
		{400, `{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"slow down"}`},
	}}
	client := dynamodb.NewFromConfig(awsConfig(fake))
	ctx, seg := tr.Start(context.Background(), "svc", tracing.WithKind(tracing.KindServer))
	in := &dynamodb.PutItemInput{TableName: aws.String("t"), Item: map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: "1"}}}
	_, err := client.PutItem(ctx, in)
	require.NoError(t, err)
	_, err = client.PutItem(ctx, in, func(o *dynamodb.Options) { o.RetryMaxAttempts = 1 })
	require.Error(t, err)
	seg.End()
	subs := rec.doc(t, 0)["subsegments"].([]any)
	require.Len(t, subs, 2)
	ok, throttled := subs[0].(map[string]any), subs[1].(map[string]any)
	require.Equal(t, float64(1), ok["aws"].(map[string]any)["retries"])
	require.Equal(t, "req-2", ok["aws"].(map[string]any)["request_id"])
	require.NotContains(t, ok, "fault", "a call that succeeded on retry is not a fault")
	require.Equal(t, true, throttled["throttle"])
	require.Equal(t, true, throttled["error"])
	require.NotContains(t, throttled, "fault")
}

// A call whose context has no trace: no subsegment, no header, one report.
func TestInstrumentAWSWithoutTraceSendsNoHeader(t *testing.T) {
	missing := &countingMissing{}
	tr, rec := setup(t, func(o *setupOpts) { o.missing = missing })
	useDefault(t, tr)
	fake := &fakeAWS{responses: []cannedResponse{{200, `{"MessageId":"m-1"}`}}}
	client := sqsClient(fake)
	for range 2 {
		_, err := client.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(queueURL), MessageBody: aws.String("{}")})
		require.NoError(t, err)
	}
	req, _ := fake.request(t, 1)
	require.Empty(t, req.Header.Get("X-Amzn-Trace-Id"))
	require.Zero(t, rec.count())
	require.Len(t, missing.calls, 1)
}

// Inside a Lambda invocation, a call is a subsegment of the facade.
func TestInstrumentAWSUnderLambdaInvocation(t *testing.T) {
	tr, rec := setup(t)
	useDefault(t, tr)
	fake := &fakeAWS{responses: []cannedResponse{{200, `{"MessageId":"m-1"}`}}}
	//lint:ignore SA1029 aws-lambda-go stores the header under this plain string key
	ctx := context.WithValue(context.Background(), "x-amzn-trace-id", producerHdr)
	_, err := sqsClient(fake).SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(queueURL), MessageBody: aws.String("{}")})
	require.NoError(t, err)
	d := rec.doc(t, 0)
	require.Equal(t, "subsegment", d["type"])
	require.Equal(t, producerTrace, d["trace_id"])
	require.Equal(t, producerSend, d["parent_id"])
	req, _ := fake.request(t, 0)
	require.Equal(t, "Root="+producerTrace+";Parent="+d["id"].(string)+";Sampled=1", req.Header.Get("X-Amzn-Trace-Id"))
}

func BenchmarkInstrumentedCall(b *testing.B) {
	for _, instrumented := range []bool{false, true} {
		b.Run(map[bool]string{false: "plain", true: "instrumented"}[instrumented], func(b *testing.B) {
			tr, err := tracing.NewXRay(tracing.Config{Emitter: discard{}, Sampling: fixedSampler{true}})
			require.NoError(b, err)
			tracing.SetDefault(tr)
			b.Cleanup(func() { tracing.SetDefault(nil) })
			fake := &fastAWS{body: `{"MessageId":"m-1"}`}
			cfg := aws.Config{Region: "us-east-1", Credentials: aws.AnonymousCredentials{}, HTTPClient: fake, BaseEndpoint: aws.String("http://aws.local")}
			if instrumented {
				tracing.InstrumentAWS(&cfg)
			}
			client := sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.DisableMessageChecksumValidation = true })
			ctx, seg := tr.Start(context.Background(), "bench", tracing.WithKind(tracing.KindServer))
			defer seg.End()
			in := &sqs.SendMessageInput{QueueUrl: aws.String(queueURL), MessageBody: aws.String("{}")}
			b.ReportAllocs()
			for b.Loop() {
				// A fresh segment per op, so that subsegments do not pile up.
				sctx, s := tr.Start(ctx, "op")
				if _, err := client.SendMessage(sctx, in); err != nil {
					b.Fatal(err)
				}
				s.End()
			}
		})
	}
}

type discard struct{}

func (discard) Emit([]byte) error { return nil }

// fastAWS answers every request with the same body, without bookkeeping.
type fastAWS struct{ body string }

func (f *fastAWS) Do(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
	}
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/x-amz-json-1.0"}, "X-Amzn-Requestid": {"r"}},
		Body: io.NopCloser(strings.NewReader(f.body)), ContentLength: int64(len(f.body)), Request: r}, nil
}
