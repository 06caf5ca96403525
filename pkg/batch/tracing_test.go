package batch_test

import (
	"context"
	"errors"
	"sort"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/require"

	"github.com/offload/offload/pkg/batch"
	"github.com/offload/offload/pkg/batch/batchtest"
	"github.com/offload/offload/pkg/message"
	"github.com/offload/offload/pkg/tracing"
	"github.com/offload/offload/pkg/tracing/tracingtest"
)

const (
	producerTrace = "1-5759e988-bd862e3fe1be46a994272793"
	producerSend  = "53995c3f42cd8ad8"
)

// Each record is a segment of its producer's trace, child of the producer's
// send, annotated with the message and its outcome; the handler's calls
// are beneath it.
func TestRecordSpansContinueTheProducersTrace(t *testing.T) {
	t.Parallel()
	tr, rec := tracingtest.New(t)
	dlq := &batchtest.SQS{}
	var handlerHeaders []string
	h := func(ctx context.Context, m events.SQSMessage) error {
		handlerHeaders = append(handlerHeaders, tracing.TraceHeader(ctx))
		_, call := tr.Start(ctx, "DynamoDB", tracing.WithKind(tracing.KindClient))
		call.SetAWS(tracing.AWSCall{Operation: "PutItem", TableName: "audit"})
		call.End()
		switch m.MessageId {
		case "msg-2":
			return batch.Permanent(message.ClassValidation, "bad", errors.New("invalid number +14155550123"))
		case "msg-3":
			return errors.New("throttled")
		case "msg-4":
			panic("boom")
		}
		return nil
	}
	p, _ := newProcessor(t, h, batch.WithTracer(tr), batch.WithDeadLetter(dlq, "https://sqs.local/1/audit-dlq"))
	recs := records(4)
	recs[2].Attributes["ApproximateReceiveCount"] = "3"
	resp, err := p.Process(context.Background(), events.SQSEvent{Records: recs})
	require.NoError(t, err)
	require.Equal(t, []string{"msg-3", "msg-4"}, failureIDs(resp))

	docs := rec.Documents(t)
	require.Len(t, docs, 4, "one document per record")
	sort.Slice(docs, func(i, j int) bool {
		return docs[i].Annotations["message_id"].(string) < docs[j].Annotations["message_id"].(string)
	})
	wantOutcome := []string{batch.OutcomeSuccess, batch.OutcomeDeadLettered, batch.OutcomeRetry, batch.OutcomePanic}
	wantFlags := [][2]bool{{false, false}, {true, false}, {false, true}, {false, true}} // error, fault
	for i, d := range docs {
		require.Equal(t, "sqs-consumer", d.Name, "the function name outside Lambda")
		require.Equal(t, producerTrace, d.TraceID)
		require.Equal(t, producerSend, d.ParentID)
		require.Empty(t, d.Type, "a segment, not a subsegment")
		require.Equal(t, "AWS::Lambda::Function", d.Origin)
		require.Equal(t, recs[i].MessageId, d.Annotations["message_id"])
		require.Equal(t, "audit", d.Annotations["queue"])
		require.Equal(t, wantOutcome[i], d.Annotations["outcome"])
		require.Equal(t, wantFlags[i], [2]bool{d.Error, d.Fault}, d.Annotations["message_id"])
		require.Len(t, d.Subsegments, 1)
		require.Equal(t, "DynamoDB", d.Subsegments[0].Name)
		require.Equal(t, "audit", d.Subsegments[0].AWS["table_name"])
		require.Equal(t, "Root="+producerTrace+";Parent="+d.ID+";Sampled=1", handlerHeaders[i], "the handler's context carries the record's span")
	}
	require.EqualValues(t, 3, docs[2].Annotations["receive_count"])
	require.Equal(t, message.ClassValidation, docs[1].Annotations["error_class"])
	require.NotContains(t, docs[1].Cause.Exceptions[0].Message, "14155550123", "error messages are masked as in logs")
	require.Contains(t, docs[3].Cause.Exceptions[0].Message, "boom")

	require.Len(t, dlq.Traces(), 1)
	require.Equal(t, "Root="+producerTrace+";Parent="+docs[1].ID+";Sampled=1", dlq.Traces()[0], "dead-lettering happens beneath the record's span")
}

// A record without AWSTraceHeader is traced under the Lambda invocation.
func TestRecordWithoutHeaderIsUnderTheInvocation(t *testing.T) {
	t.Parallel()
	tr, rec := tracingtest.New(t)
	p, _ := newProcessor(t, func(context.Context, events.SQSMessage) error { return nil }, batch.WithTracer(tr))
	recs := records(1)
	delete(recs[0].Attributes, "AWSTraceHeader")
	const facade = "Root=1-69a42a40-0123456789abcdef01234567;Parent=1111222233334444;Sampled=1"
	//lint:ignore SA1029 aws-lambda-go stores the header under this plain string key
	ctx := context.WithValue(context.Background(), "x-amzn-trace-id", facade)
	_, err := p.Process(ctx, events.SQSEvent{Records: recs})
	require.NoError(t, err)
	docs := rec.Documents(t)
	require.Len(t, docs, 1)
	require.Equal(t, "subsegment", docs[0].Type)
	require.Equal(t, "1-69a42a40-0123456789abcdef01234567", docs[0].TraceID)
	require.Equal(t, "1111222233334444", docs[0].ParentID)
	require.Equal(t, "msg-1", docs[0].Annotations["message_id"])
	require.Equal(t, batch.OutcomeSuccess, docs[0].Annotations["outcome"])
}

func TestRecordNotSampledIsPropagatedNotSent(t *testing.T) {
	t.Parallel()
	tr, rec := tracingtest.New(t)
	var got string
	p, _ := newProcessor(t, func(ctx context.Context, _ events.SQSMessage) error {
		got = tracing.TraceHeader(ctx)
		return nil
	}, batch.WithTracer(tr))
	recs := records(1)
	recs[0].Attributes["AWSTraceHeader"] = "Root=" + producerTrace + ";Parent=" + producerSend + ";Sampled=0"
	_, err := p.Process(context.Background(), events.SQSEvent{Records: recs})
	require.NoError(t, err)
	require.Empty(t, rec.Raw())
	require.Regexp(t, `^Root=`+producerTrace+`;Parent=[0-9a-f]{16};Sampled=0$`, got)
}
