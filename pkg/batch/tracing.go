package batch

import (
	"context"

	"github.com/aws/aws-lambda-go/events"

	"github.com/offload/offload/pkg/message"
	"github.com/offload/offload/pkg/tracing"
)

// invocationSpanName names the span of one invocation's batch.
const invocationSpanName = "Process"

// startInvocation opens the span of the invocation's batch (package
// documentation, "Tracing"): a child of the Lambda invocation's trace (the
// trace aws-lambda-go hands in ctx), linked to every record's producer
// context (OpenTelemetry messaging: batch processing). Records without a
// trace header are traced beneath it. Outside a traced invocation (no
// Lambda trace in ctx) there is no such span.
func (p *Processor) startInvocation(ctx context.Context, recs []events.SQSMessage) (context.Context, tracing.Span) {
	if _, ok := tracing.ParentFromContext(ctx); !ok {
		return ctx, tracing.NoopSpan()
	}
	links := make([]tracing.SpanContext, 0, len(recs))
	for i := range recs {
		if sc, ok := tracing.ParseHeader(recs[i].Attributes[message.SystemAttrTraceHeader]); ok {
			links = append(links, sc)
		}
	}
	ctx, span := p.tracer.Start(ctx, invocationSpanName, tracing.WithLinks(links...))
	span.Annotate(annotationBatchSize, len(recs))
	return ctx, span
}

// invocationLink links a record's span to the invocation's span in ctx.
func invocationLink(ctx context.Context) tracing.StartOption {
	if sc := tracing.SpanFromContext(ctx).Context(); sc.Valid() {
		return tracing.WithLinks(sc)
	}
	return tracing.WithLinks()
}

// annotationBatchSize is the invocation span's record count.
const annotationBatchSize = "batch_size"
