package localrt

import (
	"encoding/json"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/require"
)

func batchOf(ids ...string) []sqstypes.Message {
	msgs := make([]sqstypes.Message, len(ids))
	for i, id := range ids {
		msgs[i] = sqstypes.Message{MessageId: aws.String(id), ReceiptHandle: aws.String("rh-" + id)}
	}
	return msgs
}

func ids(msgs []sqstypes.Message) []string {
	out := []string{}
	for _, m := range msgs {
		out = append(out, aws.ToString(m.MessageId))
	}
	return out
}

func TestToDeleteAppliesTheMappingRules(t *testing.T) {
	t.Parallel()
	all := []string{"a", "b", "c"}
	cases := []struct {
		name     string
		response string
		report   bool
		want     []string // nil: whole batch fails
	}{
		{"without ReportBatchItemFailures every message is deleted", `{"batchItemFailures":[{"itemIdentifier":"a"}]}`, false, all},
		{"without ReportBatchItemFailures even a bad response deletes all", `not json{`, false, all},
		{"listed ids stay", `{"batchItemFailures":[{"itemIdentifier":"a"},{"itemIdentifier":"c"}]}`, true, []string{"b"}},
		{"empty list is complete success", `{"batchItemFailures":[]}`, true, all},
		{"null list is complete success", `{"batchItemFailures":null}`, true, all},
		{"empty object is complete success", `{}`, true, all},
		{"null response is complete success", `null`, true, all},
		{"empty response is complete success", ``, true, all},
		{"empty itemIdentifier fails the batch", `{"batchItemFailures":[{"itemIdentifier":""}]}`, true, nil},
		{"null itemIdentifier fails the batch", `{"batchItemFailures":[{"itemIdentifier":null}]}`, true, nil},
		{"misspelt key fails the batch", `{"batchItemFailures":[{"itemIdentifer":"a"}]}`, true, nil},
		{"unknown id fails the batch", `{"batchItemFailures":[{"itemIdentifier":"z"}]}`, true, nil},
		{"unparsable response fails the batch", `not json{`, true, nil},
		{"non-object response fails the batch", `"ok"`, true, nil},
		{"non-list failures fail the batch", `{"batchItemFailures":"a"}`, true, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := toDelete(batchOf(all...), []byte(tc.response), tc.report)
			if tc.want == nil {
				require.ErrorIs(t, err, errWholeBatch)
				require.Nil(t, got)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, ids(got))
		})
	}
}

func TestSQSEventHasLambdasShape(t *testing.T) {
	t.Parallel()
	msgs := []sqstypes.Message{{
		MessageId:              aws.String("059f36b4-87a3-44ab-83d2-661975830a7d"),
		ReceiptHandle:          aws.String("AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a"),
		Body:                   aws.String("test"),
		MD5OfBody:              aws.String("098f6bcd4621d373cade4e832627b4f6"),
		MD5OfMessageAttributes: aws.String("3e5b2f5c4a1d0e6b8c9a7f1e2d3c4b5a"),
		Attributes: map[string]string{
			"ApproximateReceiveCount": "1", "SentTimestamp": "1545082649183", "SenderId": "AIDAIENQZJOLO23YVJ4VO",
			"ApproximateFirstReceiveTimestamp": "1545082649185", "AWSTraceHeader": "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1",
		},
		MessageAttributes: map[string]sqstypes.MessageAttributeValue{
			"kind": {DataType: aws.String("String"), StringValue: aws.String("audit")},
			"blob": {DataType: aws.String("Binary"), BinaryValue: []byte{1, 2}},
		},
	}}
	b, err := json.Marshal(sqsEvent(msgs, "arn:aws:sqs:us-east-1:123456789012:my-queue", "us-east-1"))
	require.NoError(t, err)
	require.JSONEq(t, `{"Records":[{
		"messageId":"059f36b4-87a3-44ab-83d2-661975830a7d",
		"receiptHandle":"AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a",
		"body":"test",
		"attributes":{"ApproximateReceiveCount":"1","SentTimestamp":"1545082649183","SenderId":"AIDAIENQZJOLO23YVJ4VO",
			"ApproximateFirstReceiveTimestamp":"1545082649185","AWSTraceHeader":"Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"},
		"messageAttributes":{
			"kind":{"stringValue":"audit","stringListValues":[],"binaryListValues":[],"dataType":"String"},
			"blob":{"binaryValue":"AQI=","stringListValues":[],"binaryListValues":[],"dataType":"Binary"}},
		"md5OfBody":"098f6bcd4621d373cade4e832627b4f6",
		"md5OfMessageAttributes":"3e5b2f5c4a1d0e6b8c9a7f1e2d3c4b5a",
		"eventSource":"aws:sqs",
		"eventSourceARN":"arn:aws:sqs:us-east-1:123456789012:my-queue",
		"awsRegion":"us-east-1"}]}`, string(b))

	var back events.SQSEvent
	require.NoError(t, json.Unmarshal(b, &back))
	require.Equal(t, "audit", *back.Records[0].MessageAttributes["kind"].StringValue)
}

func TestTraceHeaderComesFromTheFirstRecordThatHasOne(t *testing.T) {
	t.Parallel()
	msgs := batchOf("a", "b")
	msgs[1].Attributes = map[string]string{"AWSTraceHeader": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"}
	require.Equal(t, "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1", traceHeaderOf(msgs))
	require.Regexp(t, `^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=1$`, traceHeaderOf(batchOf("a")))
}

func BenchmarkSQSEvent(b *testing.B) {
	msgs := batchOf("1", "2", "3", "4", "5", "6", "7", "8", "9", "10")
	for i := range msgs {
		msgs[i].Body = aws.String(`{"auditText":"benchmark","auditTime":"2026-11-26T23:12:43.1234567Z"}`)
		msgs[i].Attributes = map[string]string{"ApproximateReceiveCount": "1", "SentTimestamp": "1545082649183"}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(sqsEvent(msgs, "arn:aws:sqs:us-east-1:123456789012:q", "us-east-1")); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkToDelete(b *testing.B) {
	msgs := batchOf("1", "2", "3", "4", "5", "6", "7", "8", "9", "10")
	resp := []byte(`{"batchItemFailures":[{"itemIdentifier":"3"},{"itemIdentifier":"7"}]}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := toDelete(msgs, resp, true); err != nil {
			b.Fatal(err)
		}
	}
}
