//go:build integration

package localrt

// Conformance tests for asynchronous invokes (SNS → Lambda; issue 14, item
// 6): Lambda's retry schedule, EventInvokeConfig and on-failure destinations.
// They run on a scaled clock (LOCALRT_CLOCK_SCALE, default 1/120: a minute
// lasts 500 ms); LOCALRT_CLOCK_SCALE=1 runs them as AWS times them.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/stretchr/testify/require"
)

func testClockScale(t *testing.T) float64 {
	t.Helper()
	if v := os.Getenv("LOCALRT_CLOCK_SCALE"); v != "" {
		s, err := strconv.ParseFloat(v, 64)
		require.NoError(t, err, "LOCALRT_CLOCK_SCALE")
		return s
	}
	return 1.0 / 120
}

type asyncFixture struct {
	*fixture
	scale            float64
	fnARN, topicARN  string
	destURL, destARN string
	lambda           *lambda.Client
}

// newAsyncFixture deploys a behave function in mode (subscribed to a topic)
// with an on-failure SQS destination and the given retry/age settings (nil:
// Lambda's defaults), and starts the runtime on it.
func newAsyncFixture(t *testing.T, mode string, retries, maxAge *int32) *asyncFixture {
	t.Helper()
	ctx := context.Background()
	base := newBaseFixture(t, "lrt-async")
	cfg := base.cfg
	f := &asyncFixture{fixture: base, scale: testClockScale(t), lambda: lambda.NewFromConfig(cfg)}
	f.fnName = f.name + "-fn"
	f.fnARN = createFunction(t, cfg, f.fnName, 3, map[string]string{"FIXTURE_MODE": mode, "FIXTURE_RECORD": f.record})
	f.destURL, f.destARN = createQueue(t, f.sqs, f.name+"-failures", nil)
	_, err := f.lambda.PutFunctionEventInvokeConfig(ctx, &lambda.PutFunctionEventInvokeConfigInput{
		FunctionName: aws.String(f.fnName), MaximumRetryAttempts: retries, MaximumEventAgeInSeconds: maxAge,
		DestinationConfig: &lambdatypes.DestinationConfig{OnFailure: &lambdatypes.OnFailure{Destination: aws.String(f.destARN)}},
	})
	require.NoError(t, err)
	f.topicARN = createTopic(t, cfg, f.name+"-topic")
	subscribeFunction(t, cfg, f.topicARN, f.fnARN, nil)
	f.start(Config{Functions: []string{f.fnName}, AlarmPeriod: -1, ClockScale: f.scale})
	return f
}

func (f *asyncFixture) minutes(m float64) time.Duration {
	return time.Duration(m * float64(time.Minute) * f.scale)
}

// publish delivers one notification as SNS does (what an alarm action does).
func (f *asyncFixture) publish(message string) error {
	return f.rt.deliver(context.Background(), f.topicARN, "subject", message)
}

// records reads the on-failure destination.
func (f *asyncFixture) records(within time.Duration) []InvocationRecord {
	f.t.Helper()
	var out []InvocationRecord
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		got, err := f.sqs.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(f.destURL), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		require.NoError(f.t, err)
		for _, m := range got.Messages {
			var r InvocationRecord
			require.NoError(f.t, json.Unmarshal([]byte(aws.ToString(m.Body)), &r))
			out = append(out, r)
		}
		if len(out) > 0 {
			return out
		}
	}
	return out
}

// requireGivesUp publishes message and requires that the runtime gave up
// after attempts invokes for condition, with one invocation record saying so.
func (f *asyncFixture) requireGivesUp(message, condition string, attempts int) {
	f.t.Helper()
	require.ErrorContains(f.t, f.publish(message), fmt.Sprintf("%s after %d attempts", condition, attempts))
	require.Len(f.t, f.invokes(), attempts)
	recs := f.records(10 * time.Second)
	require.Len(f.t, recs, 1)
	require.Equal(f.t, condition, recs[0].RequestContext.Condition)
	require.Equal(f.t, attempts, recs[0].RequestContext.ApproximateInvokeCount)
}

// Lambda retries a failed asynchronous invoke twice, one minute after the
// first attempt and two minutes after the second, then sends the invocation
// record to the on-failure destination.
func TestConformanceAsyncInvokeRetriesOnLambdasScheduleThenSendsTheRecordToTheOnFailureDestination(t *testing.T) {
	t.Parallel()
	f := newAsyncFixture(t, "error", nil, nil)
	require.ErrorContains(t, f.publish("the alarm"), "RetriesExhausted after 3 attempts")

	invs := f.invokes()
	require.Len(t, invs, 3, "the first attempt and two retries")
	gap1 := time.Unix(0, invs[1].Start).Sub(time.Unix(0, invs[0].End))
	gap2 := time.Unix(0, invs[2].Start).Sub(time.Unix(0, invs[1].End))
	require.GreaterOrEqual(t, gap1, f.minutes(1), "the first retry waits a minute")
	require.GreaterOrEqual(t, gap2, f.minutes(2), "the second retry waits two minutes")

	recs := f.records(10 * time.Second)
	require.Len(t, recs, 1)
	r := recs[0]
	require.Equal(t, "1.0", r.Version)
	require.Equal(t, ConditionRetriesExhausted, r.RequestContext.Condition)
	require.Equal(t, 3, r.RequestContext.ApproximateInvokeCount)
	require.Equal(t, f.fnARN+":$LATEST", r.RequestContext.FunctionArn)
	require.Equal(t, invs[2].RequestID, r.RequestContext.RequestID)
	_, err := time.Parse("2006-01-02T15:04:05.000Z", r.Timestamp)
	require.NoError(t, err)
	var ev events.SNSEvent
	require.NoError(t, json.Unmarshal(r.RequestPayload, &ev), "requestPayload is the event")
	require.Len(t, ev.Records, 1)
	require.Equal(t, "the alarm", ev.Records[0].SNS.Message)
	require.JSONEq(t, string(invs[0].Event), string(r.RequestPayload))
	require.NotNil(t, r.ResponseContext)
	require.Equal(t, InvocationResponse{StatusCode: 200, ExecutedVersion: "$LATEST", FunctionError: "Unhandled"}, *r.ResponseContext)
	var resp struct{ ErrorMessage, ErrorType string }
	require.NoError(t, json.Unmarshal(r.ResponsePayload, &resp))
	require.Equal(t, "fixture error", resp.ErrorMessage)
}

func TestConformanceAsyncInvokeHonoursMaximumRetryAttempts(t *testing.T) {
	t.Parallel()
	f := newAsyncFixture(t, "error", aws.Int32(0), nil)
	f.requireGivesUp("no retries", ConditionRetriesExhausted, 1)
}

// With MaximumEventAgeInSeconds 170 the retry at minute 1 runs, the one at
// minute 3 does not: the event is discarded as too old. (170, not 90: the
// first attempt's cold start on a busy machine must not age the event past
// the first retry.)
func TestConformanceAsyncInvokeHonoursMaximumEventAge(t *testing.T) {
	t.Parallel()
	f := newAsyncFixture(t, "error", nil, aws.Int32(170))
	f.requireGivesUp("aging", ConditionEventAgeExceeded, 2)
}

func TestConformanceAsyncInvokeThatSucceedsSendsNoRecord(t *testing.T) {
	t.Parallel()
	f := newAsyncFixture(t, "succeed", nil, nil)
	require.NoError(t, f.publish("fine"))
	require.Len(t, f.invokes(), 1)
	require.Empty(t, f.records(2*time.Second), "no on-failure record for a success")
}
