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
	"github.com/stretchr/testify/require"
)

func TestConformanceFilterCriteriaInvokesMatchesAndDeletesTheRest(t *testing.T) {
	t.Parallel()
	f := newFixture(t, mappingOpts{mode: "succeed", filters: []string{
		`{"body":{"type":["audit"],"version":[{"numeric":[">=",2]}]}}`,
		`{"body":{"type":[{"prefix":"sms."}]}}`,
	}})

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
	f := newBaseFixture(t, "lrt-snsfilter")
	cfg := f.cfg
	dir := t.TempDir()
	topic := createTopic(t, cfg, f.name+"-topic")
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
		subscribeFunction(t, cfg, topic, arn, sub.attrs)
		names = append(names, name)
	}
	f.start(Config{Functions: names, AlarmPeriod: -1})

	alarm := func(state string) string {
		b, err := json.Marshal(map[string]any{"AlarmName": "a", "NewStateValue": state, "Trigger": map[string]any{"Namespace": "AWS/SQS"}})
		require.NoError(t, err)
		return string(b)
	}
	require.NoError(t, f.rt.deliver(ctx, topic, "ALARM", alarm("ALARM")))
	require.NoError(t, f.rt.deliver(ctx, topic, "OK", alarm("OK")))

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
