package tracingtest_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	xraytypes "github.com/aws/aws-sdk-go-v2/service/xray/types"
	"github.com/stretchr/testify/require"

	"github.com/offload/offload/pkg/tracing"
	"github.com/offload/offload/pkg/tracing/tracingtest"
)

// Documents with nested subsegments (the X-Ray SDKs send them so) flatten
// with the nested ones' identity filled in; the exporter's own documents
// (one per span) pass through.
func TestFlattenFillsNestedIdentity(t *testing.T) {
	t.Parallel()
	d, err := tracingtest.Parse([]byte(`{"name":"svc","id":"1111111111111111","trace_id":"1-5759e988-bd862e3fe1be46a994272793",
		"subsegments":[{"name":"a","id":"2222222222222222","subsegments":[{"name":"b","id":"3333333333333333"}]}]}`))
	require.NoError(t, err)
	flat := tracingtest.Flatten(d)
	require.Len(t, flat, 3)
	require.Equal(t, []string{"svc", "a", "b"}, []string{flat[0].Name, flat[1].Name, flat[2].Name})
	require.Equal(t, "1111111111111111", flat[1].ParentID)
	require.Equal(t, "2222222222222222", flat[2].ParentID)
	for _, d := range flat {
		require.Equal(t, "1-5759e988-bd862e3fe1be46a994272793", d.TraceID)
		require.Nil(t, d.Subsegments)
	}

	tr, rec := tracingtest.New(t)
	ctx, seg := tr.Start(context.Background(), "svc", tracing.WithKind(tracing.KindServer))
	_, c := tr.Start(ctx, "c")
	c.End()
	seg.End()
	own := tracingtest.Flatten(rec.Documents(t)...)
	require.Len(t, own, 2)
	require.Equal(t, seg.Context().SpanID, own[0].ParentID)
}

func TestParseRejectsInvalidJSON(t *testing.T) {
	t.Parallel()
	_, err := tracingtest.Parse([]byte("{"))
	require.Error(t, err)
}

// A BatchGetTraces answer's segments, of every trace, come back as one
// flattened list; a segment that is not JSON fails the whole answer.
func TestParseTracesFlattensEverySegment(t *testing.T) {
	t.Parallel()
	traces := []xraytypes.Trace{
		{Segments: []xraytypes.Segment{
			{Document: aws.String(`{"name":"svc","id":"1111111111111111","subsegments":[{"name":"a","id":"2222222222222222"}]}`)},
			{Document: aws.String(`{"name":"fn","id":"3333333333333333"}`)},
		}},
		{Segments: []xraytypes.Segment{{Document: aws.String(`{"name":"other","id":"4444444444444444"}`)}}},
	}
	spans, err := tracingtest.ParseTraces(traces)
	require.NoError(t, err)
	var names []string
	for _, d := range spans {
		names = append(names, d.Name)
	}
	require.Equal(t, []string{"svc", "a", "fn", "other"}, names)
	require.Equal(t, "1111111111111111", spans[1].ParentID)

	traces[1].Segments = append(traces[1].Segments, xraytypes.Segment{Document: aws.String("{")})
	_, err = tracingtest.ParseTraces(traces)
	require.Error(t, err)
}

func ExampleNew() {
	tr, rec := tracingtest.New(&testing.T{})
	_, span := tr.Start(context.Background(), "svc", tracing.WithKind(tracing.KindServer))
	span.Annotate("outcome", "success")
	span.End()
	d, _ := tracingtest.Parse(rec.Raw()[0])
	fmt.Println(d.Name, d.Annotations["outcome"])
	// Output: svc success
}
