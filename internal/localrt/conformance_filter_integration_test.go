//go:build integration

package localrt

// Conformance tests for filters (issue 14, item 7): ESM FilterCriteria (the
// records that match are invoked, the rest deleted) and SNS subscription
// filter policies (MessageAttributes and MessageBody scope).

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/stretchr/testify/require"

	"github.com/offload/offload/internal/testenv"
	"github.com/offload/offload/pkg/logging/loggingtest"
)

func TestConformanceFilterCriteriaInvokesMatchesAndDeletesTheRest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newBaseFixture(t, "lrt-esmfilter")
	cfg := f.cfg
	f.fnName = f.name + "-fn"
	f.queueURL, f.queueARN = createQueue(t, f.sqs, f.name, map[string]string{"VisibilityTimeout": "2"})
	createFunction(t, cfg, f.fnName, 3, map[string]string{"FIXTURE_MODE": "succeed", "FIXTURE_RECORD": f.record})
	lc := lambda.NewFromConfig(cfg)
	m, err := lc.CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{
		FunctionName: aws.String(f.fnName), EventSourceArn: aws.String(f.queueARN), Enabled: aws.Bool(false), BatchSize: aws.Int32(10),
		FilterCriteria: &lambdatypes.FilterCriteria{Filters: []lambdatypes.Filter{
			{Pattern: aws.String(`{"body":{"type":["audit"],"version":[{"numeric":[">=",2]}]}}`)},
			{Pattern: aws.String(`{"body":{"type":[{"prefix":"sms."}]}}`)},
		}},
	})
	require.NoError(t, err)
	t.Cleanup(func() {
		_, _ = lc.DeleteEventSourceMapping(context.Background(), &lambda.DeleteEventSourceMappingInput{UUID: m.UUID})
	})
	f.start(Config{Functions: []string{f.fnName}, AlarmPeriod: -1})

	f.send(`{"type":"audit","version":2}`, `{"type":"audit","version":1}`, `{"type":"sms.send"}`, `{"type":"other"}`, `not json`)
	f.waitQueueEmpty(15 * time.Second)
	time.Sleep(2500 * time.Millisecond) // one visibility timeout: nothing filtered out may come back
	var bodies []string
	for _, d := range f.deliveries() {
		bodies = append(bodies, d.body)
	}
	require.ElementsMatch(t, []string{`{"type":"audit","version":2}`, `{"type":"sms.send"}`}, bodies,
		"matching records are invoked once; the others are deleted, never invoked")
	v, n := f.visibleAndInFlight(f.queueURL)
	require.Equal(t, 0, v+n)
}

func TestConformanceSNSFilterPoliciesSelectSubscribers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg := testenv.AWSConfig(t)
	f := &fixture{t: t, cfg: cfg, sqs: sqs.NewFromConfig(cfg), name: testenv.UniqueName("lrt-snsfilter"), logs: &loggingtest.Buffer{}}
	dir := t.TempDir()
	sc := sns.NewFromConfig(cfg)
	topic, err := sc.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(f.name + "-topic")})
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = sc.DeleteTopic(context.Background(), &sns.DeleteTopicInput{TopicArn: topic.TopicArn}) })

	subscribe := func(fn, protocolEndpoint string, attrs map[string]string) {
		_, err := sc.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("lambda"), Endpoint: aws.String(protocolEndpoint), Attributes: attrs})
		require.NoError(t, err, fn)
	}
	var names []string
	records := map[string]string{}
	for _, sub := range []struct {
		suffix string
		attrs  map[string]string
	}{
		{"body-alarm", map[string]string{"FilterPolicyScope": "MessageBody", "FilterPolicy": `{"NewStateValue":["ALARM"],"Trigger":{"Namespace":["AWS/SQS"]}}`}},
		{"attr-high", map[string]string{"FilterPolicy": `{"severity":["high"]}`}},
		{"attr-absent", map[string]string{"FilterPolicy": `{"severity":[{"exists":false}]}`}},
		{"all", nil},
	} {
		name := f.name + "-" + sub.suffix
		records[sub.suffix] = dir + "/" + sub.suffix + ".jsonl"
		arn := createFunction(t, cfg, name, 3, map[string]string{"FIXTURE_MODE": "succeed", "FIXTURE_RECORD": records[sub.suffix]})
		subscribe(name, arn, sub.attrs)
		names = append(names, name)
	}
	f.start(Config{Functions: names, AlarmPeriod: -1})

	alarm := func(state string) string {
		b, err := json.Marshal(map[string]any{"AlarmName": "a", "NewStateValue": state, "Trigger": map[string]any{"Namespace": "AWS/SQS"}})
		require.NoError(t, err)
		return string(b)
	}
	require.NoError(t, f.rt.deliver(ctx, aws.ToString(topic.TopicArn), "ALARM", alarm("ALARM")))
	require.NoError(t, f.rt.deliver(ctx, aws.ToString(topic.TopicArn), "OK", alarm("OK")))

	states := func(suffix string) []string {
		var out []string
		for _, r := range readRecords(t, records[suffix]) {
			var ev events.SNSEvent
			require.NoError(t, json.Unmarshal(r.Event, &ev))
			var p struct{ NewStateValue string }
			require.NoError(t, json.Unmarshal([]byte(ev.Records[0].SNS.Message), &p))
			out = append(out, p.NewStateValue)
		}
		return out
	}
	require.Equal(t, []string{"ALARM"}, states("body-alarm"), "MessageBody scope matches the JSON message")
	require.Empty(t, states("attr-high"), "MessageAttributes scope: the notification carries no attributes")
	require.Equal(t, []string{"ALARM", "OK"}, states("attr-absent"), "exists:false matches a missing attribute")
	require.Equal(t, []string{"ALARM", "OK"}, states("all"), "no policy: everything")
}
