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

	all := tracingtest.Flatten(rec.Documents(t)...)
	var docs []tracingtest.Document
	children := map[string][]tracingtest.Document{}
	for _, d := range all {
		if d.Name == "DynamoDB" {
			children[d.ParentID] = append(children[d.ParentID], d)
			continue
		}
		docs = append(docs, d)
	}
	require.Len(t, docs, 4, "one record span per record (no invocation span outside a Lambda trace)")
	sort.Slice(docs, func(i, j int) bool {
		return docs[i].Annotations["message_id"].(string) < docs[j].Annotations["message_id"].(string)
	})
	wantOutcome := []string{batch.OutcomeSuccess, batch.OutcomeDeadLettered, batch.OutcomeRetry, batch.OutcomePanic}
	wantFlags := [][2]bool{{false, false}, {true, false}, {false, true}, {false, true}} // error, fault
	for i, d := range docs {
		require.Equal(t, "sqs-consumer", d.Name, "the function name outside Lambda")
		require.Equal(t, tracingtest.ProducerTrace, d.TraceID)
		require.Equal(t, tracingtest.ProducerSend, d.ParentID)
		require.Empty(t, d.Type, "a segment, not a subsegment")
		require.Equal(t, "AWS::Lambda::Function", d.Origin)
		require.Equal(t, recs[i].MessageId, d.Annotations["message_id"])
		require.Equal(t, "audit", d.Annotations["queue"])
		require.Equal(t, wantOutcome[i], d.Annotations["outcome"])
		require.Equal(t, wantFlags[i], [2]bool{d.Error, d.Fault}, d.Annotations["message_id"])
		require.Len(t, children[d.ID], 1, "the handler's call is beneath the record's span")
		require.Equal(t, "subsegment", children[d.ID][0].Type)
		require.Equal(t, tracingtest.ProducerTrace, children[d.ID][0].TraceID)
		require.Equal(t, "audit", children[d.ID][0].AWS["table_name"])
		require.Equal(t, "Root="+tracingtest.ProducerTrace+";Parent="+d.ID+";Sampled=1", handlerHeaders[i], "the handler's context carries the record's span")
	}
	require.EqualValues(t, 3, docs[2].Annotations["receive_count"])
	require.Equal(t, message.ClassValidation, docs[1].Annotations["error_class"])
	require.NotContains(t, docs[1].Cause.Exceptions[0].Message, "14155550123", "error messages are masked as in logs")
	require.Contains(t, docs[3].Cause.Exceptions[0].Message, "boom")

	require.Len(t, dlq.Traces(), 1)
	require.Equal(t, "Root="+tracingtest.ProducerTrace+";Parent="+docs[1].ID+";Sampled=1", dlq.Traces()[0], "dead-lettering happens beneath the record's span")
}

// A record without AWSTraceHeader is traced in the Lambda invocation's
// trace, beneath the invocation's span, which is a subsegment of the
// invocation (the Lambda facade) — taken from the context aws-lambda-go
// hands the handler, never from _X_AMZN_TRACE_ID.
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
	require.Len(t, docs, 2, "the record's span and the invocation's")
	record, inv := docs[0], docs[1]
	require.Equal(t, "Process", inv.Name)
	require.Equal(t, "subsegment", inv.Type)
	require.Equal(t, "1-69a42a40-0123456789abcdef01234567", inv.TraceID)
	require.Equal(t, "1111222233334444", inv.ParentID)
	require.EqualValues(t, 1, inv.Annotations["batch_size"])
	require.Equal(t, "subsegment", record.Type)
	require.Equal(t, "1-69a42a40-0123456789abcdef01234567", record.TraceID)
	require.Equal(t, inv.ID, record.ParentID)
	require.Equal(t, "msg-1", record.Annotations["message_id"])
	require.Equal(t, batch.OutcomeSuccess, record.Annotations["outcome"])
	require.Equal(t, []tracingtest.Link{{TraceID: inv.TraceID, ID: inv.ID}}, record.Links())
}

// In a traced invocation, each record's span continues its producer's trace
// and links to the invocation's span; the invocation's span links to every
// record's producer context.
func TestBatchSpansLinkInvocationAndRecords(t *testing.T) {
	t.Parallel()
	tr, rec := tracingtest.New(t)
	p, _ := newProcessor(t, func(context.Context, events.SQSMessage) error { return nil }, batch.WithTracer(tr))
	recs := records(3)
	producers := []string{"1-5759e988-00000000000000000000000a", "1-5759e988-00000000000000000000000b", "1-5759e988-00000000000000000000000c"}
	for i := range recs {
		recs[i].Attributes["AWSTraceHeader"] = "Root=" + producers[i] + ";Parent=000000000000000" + string(rune('1'+i)) + ";Sampled=1"
	}
	const facade = "Root=1-69a42a40-0123456789abcdef01234567;Parent=1111222233334444;Sampled=1"
	//lint:ignore SA1029 aws-lambda-go stores the header under this plain string key
	ctx := context.WithValue(context.Background(), "x-amzn-trace-id", facade)
	_, err := p.Process(ctx, events.SQSEvent{Records: recs})
	require.NoError(t, err)
	docs := rec.Documents(t)
	require.Len(t, docs, 4)
	inv := docs[3]
	require.Equal(t, "Process", inv.Name)
	require.Equal(t, "1111222233334444", inv.ParentID)
	var want []tracingtest.Link
	for i, d := range docs[:3] {
		require.Equal(t, producers[i], d.TraceID, "record %d is in its producer's trace", i)
		require.Equal(t, "000000000000000"+string(rune('1'+i)), d.ParentID)
		require.Empty(t, d.Type, "a segment")
		require.Equal(t, []tracingtest.Link{{TraceID: inv.TraceID, ID: inv.ID}}, d.Links())
		want = append(want, tracingtest.Link{TraceID: producers[i], ID: d.ParentID})
	}
	require.Equal(t, want, inv.Links())
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
	recs[0].Attributes["AWSTraceHeader"] = "Root=" + tracingtest.ProducerTrace + ";Parent=" + tracingtest.ProducerSend + ";Sampled=0"
	_, err := p.Process(context.Background(), events.SQSEvent{Records: recs})
	require.NoError(t, err)
	require.Empty(t, rec.Raw())
	require.Regexp(t, `^Root=`+tracingtest.ProducerTrace+`;Parent=[0-9a-f]{16};Sampled=0$`, got)
}
