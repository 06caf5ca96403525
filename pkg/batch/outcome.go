package batch

import (
	"context"
	"maps"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/sirupsen/logrus"

	"github.com/offload/offload/pkg/logging"
	"github.com/offload/offload/pkg/message"
	"github.com/offload/offload/pkg/tracing"
)

// Outcomes logged per record (field "outcome").
const (
	OutcomeSuccess      = "success"
	OutcomeRetry        = "retry"
	OutcomeDeadLettered = "dead-lettered"
	OutcomeFailed       = "failed"
	OutcomePanic        = "panic"
	OutcomeSkipped      = "skipped"
)

// startSpan opens the record's span (package documentation, "Tracing").
func (p *Processor) startSpan(ctx context.Context, rec *events.SQSMessage) (context.Context, tracing.Span) {
	ctx, span := p.tracer.Start(ctx, p.spanName, tracing.WithKind(tracing.KindServer),
		tracing.RemoteParent(rec.Attributes[message.SystemAttrTraceHeader]), tracing.WithOrigin("AWS::Lambda::Function"),
		invocationLink(ctx))
	span.Annotate(annotationMessageID, rec.MessageId)
	if i := strings.LastIndexByte(rec.EventSourceARN, ':'); i >= 0 {
		span.Annotate(tracing.AnnotationQueue, rec.EventSourceARN[i+1:])
	}
	span.Annotate(annotationReceiveCount, receiveCount(rec))
	return ctx, span
}

// Annotations of a record's span besides tracing.AnnotationQueue.
const (
	annotationMessageID    = "message_id"
	annotationReceiveCount = "receive_count"
	annotationOutcome      = "outcome"
	annotationErrorClass   = "error_class"
)

// endSpan records the outcome on span and ends it: a permanent failure (bad
// input) is a client error, a transient failure or a panic a fault. Error
// messages are masked as in logs.
func endSpan(span tracing.Span, o outcome) {
	span.Annotate(annotationOutcome, o.name)
	if o.class != "" {
		span.Annotate(annotationErrorClass, o.class)
	}
	if o.err != nil {
		kind := tracing.Fault
		if _, permanent := AsPermanent(o.err); permanent && o.name != OutcomePanic {
			kind = tracing.ClientError
		}
		span.SetError(maskedError{o.err}, kind)
	}
	span.End()
}

// maskedError is err with its message masked (logging.Mask).
type maskedError struct{ err error }

func (m maskedError) Error() string { return logging.Mask(m.err.Error()) }
func (m maskedError) Unwrap() error { return m.err }

// outcome is what happened to one record, as its log line and span tell it.
type outcome struct {
	name    string        // one of the Outcome constants
	elapsed time.Duration // time since the record was taken up; 0 when never attempted
	class   string        // the failure class, or why the record was skipped
	err     error         // the handler's error (or the deadline's), logged masked
	fields  logrus.Fields // extra log fields
}

// report logs the record's outcome and, when span is not nil, ends it with
// the outcome.
func (p *Processor) report(log *logrus.Entry, span tracing.Span, o outcome) {
	if span != nil {
		endSpan(span, o)
	}
	data := make(logrus.Fields, len(log.Data)+4+len(o.fields))
	maps.Copy(data, log.Data)
	data[logging.FieldOutcome] = o.name
	data[logging.FieldDurationMS] = float64(o.elapsed.Microseconds()) / 1000
	if o.class != "" {
		data[logging.FieldErrorClass] = o.class
	}
	if o.err != nil {
		data[logging.FieldError] = o.err
	}
	maps.Copy(data, o.fields)
	e := &logrus.Entry{Logger: log.Logger, Data: data, Context: log.Context}
	switch o.name {
	case OutcomeSuccess, OutcomeDeadLettered:
		e.Info("record " + o.name)
	case OutcomeRetry, OutcomeSkipped:
		e.Warn("record " + o.name)
	default:
		e.Error("record " + o.name)
	}
}
