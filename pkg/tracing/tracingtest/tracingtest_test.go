package tracingtest_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/offload/offload/pkg/tracing"
	"github.com/offload/offload/pkg/tracing/tracingtest"
)

func TestFlattenFillsNestedIdentity(t *testing.T) {
	t.Parallel()
	tr, rec := tracingtest.New(t)
	ctx, seg := tr.Start(context.Background(), "svc", tracing.WithKind(tracing.KindServer))
	cctx, a := tr.Start(ctx, "a")
	_, b := tr.Start(cctx, "b")
	b.End()
	a.End()
	seg.End()
	docs := rec.Documents(t)
	require.Len(t, docs, 1)
	flat := tracingtest.Flatten(docs...)
	require.Len(t, flat, 3)
	require.Equal(t, []string{"svc", "a", "b"}, []string{flat[0].Name, flat[1].Name, flat[2].Name})
	require.Equal(t, seg.Context().SpanID, flat[1].ParentID)
	require.Equal(t, a.Context().SpanID, flat[2].ParentID)
	for _, d := range flat {
		require.Equal(t, seg.Context().TraceID, d.TraceID)
		require.Nil(t, d.Subsegments)
	}
}

func TestParseRejectsInvalidJSON(t *testing.T) {
	t.Parallel()
	_, err := tracingtest.Parse([]byte("{"))
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
