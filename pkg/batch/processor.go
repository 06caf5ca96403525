package batch

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/sirupsen/logrus"

	"github.com/offload/offload/pkg/logging"
	"github.com/offload/offload/pkg/message"
	"github.com/offload/offload/pkg/tracing"
)

// Handler processes one SQS record. Its error decides the record's fate (see
// the package documentation). ctx carries the record's deadline and a record
// logger (logging.FromContext).
type Handler func(ctx context.Context, msg events.SQSMessage) error

// Option configures a Processor.
type Option func(*Processor)

// WithConcurrency sets how many records (or FIFO message groups) are processed
// at once within a batch. Default 1: one after the other.
func WithConcurrency(n int) Option { return func(p *Processor) { p.concurrency = n } }

// WithDeadlineMargin sets how long before the invocation's deadline each
// record's context expires, leaving time to dead-letter, change visibility
// and respond. Default 500ms.
func WithDeadlineMargin(d time.Duration) Option { return func(p *Processor) { p.margin = d } }

// WithDeadLetter makes permanent failures go to the queue at dlqURL (the
// source queue's DLQ; FIFO when the source is FIFO) through client. Without
// it a permanent failure is reported as a batch item failure and reaches the
// DLQ through the queue's redrive policy.
func WithDeadLetter(client DeadLetterAPI, dlqURL string) Option {
	return func(p *Processor) { p.dlq, p.dlqURL = client, dlqURL }
}

// WithBackoff sets the visibility timeout of transiently failed records from
// policy (RetryAfter overrides it per error), changed through client.
func WithBackoff(client VisibilityAPI, policy BackoffPolicy) Option {
	return func(p *Processor) { p.vis, p.backoff = client, policy }
}

// WithMaxReceiveCount tells the processor the source queue's redrive
// maxReceiveCount. A record that fails transiently, or is skipped for the
// deadline, on that receive (or a later one) is dead-lettered with class
// message.ClassRetriesExhausted and the last error as its reason: SQS would otherwise
// move it on the next receive with no reason at all. Needs WithDeadLetter.
// 0 (the default) leaves the last receive to SQS.
func WithMaxReceiveCount(n int) Option { return func(p *Processor) { p.maxReceives = n } }

// WithDeadLetterMaxBytes sets the DLQ's maximum message size (its
// MaximumMessageSize attribute; default DefaultDeadLetterMaxBytes). The copy
// sent to the DLQ is trimmed to it (package documentation, "Dead letters").
func WithDeadLetterMaxBytes(n int) Option { return func(p *Processor) { p.dlqMaxBytes = n } }

// WithFirstEnqueueTime makes every dead letter carry when its record was
// first enqueued (message.AttrFirstEnqueuedAt: the record's own, else its
// SentTimestamp; FirstEnqueuedAt), for consumers whose deduplication records
// expire (sms-sender): a redrive gives the message a new SentTimestamp. It
// takes one of SQS's 10 attributes, so one copied attribute fewer fits.
func WithFirstEnqueueTime() Option { return func(p *Processor) { p.firstEnqueued = true } }

// Accept declares a message type and the versions of it the handler
// understands (offload.type / offload.version, set by pkg/producer). Call it
// once per type. With at least one Accept, a record declaring another type or
// version fails permanently with message.ClassUnsupportedVersion before the handler
// runs; a record without the attributes (a producer that does not set them,
// such as the aws CLI) is taken as the current version and handled.
func Accept(msgType string, versions ...string) Option {
	return func(p *Processor) {
		p.accepts = append(p.accepts, accepted{typ: msgType, versions: versions})
	}
}

// WithLogger sets the logger records are logged with (default logging.New()).
func WithLogger(l logrus.FieldLogger) Option { return func(p *Processor) { p.log = l } }

// WithTracer sets the tracer records are traced with (default
// tracing.NewTracer(tracing.Global())); functions pass the one of their
// container's tracing.Provider. See the package documentation, "Tracing".
func WithTracer(t tracing.Tracer) Option { return func(p *Processor) { p.tracer = t } }

// WithClock replaces time.Now (for tests).
func WithClock(now func() time.Time) Option { return func(p *Processor) { p.now = now } }

// Processor runs a Handler over SQS batches. It is safe for concurrent use;
// build one at init.
type Processor struct {
	handler     Handler
	concurrency int
	margin      time.Duration
	dlq         DeadLetterAPI
	dlqURL      string
	vis         VisibilityAPI
	backoff     BackoffPolicy
	log         logrus.FieldLogger
	now         func() time.Time
	tracer      tracing.Tracer
	spanName    string
	dlqMaxBytes int
	maxReceives int
	// firstEnqueued: dead letters carry AttrFirstEnqueuedAt.
	firstEnqueued bool
	accepts       []accepted
	queueURLs     queueURLCache
	pool          *workerPool
}

// New returns a Processor for h, reporting every configuration problem at once.
func New(h Handler, opts ...Option) (*Processor, error) {
	p := &Processor{handler: h, concurrency: 1, margin: 500 * time.Millisecond, now: time.Now, dlqMaxBytes: DefaultDeadLetterMaxBytes}
	for _, o := range opts {
		o(p)
	}
	var errs []error
	if h == nil {
		errs = append(errs, errors.New("handler is required"))
	}
	if p.concurrency < 1 {
		errs = append(errs, fmt.Errorf("concurrency must be at least 1, got %d", p.concurrency))
	}
	if p.margin < 0 {
		errs = append(errs, fmt.Errorf("deadline margin must not be negative, got %s", p.margin))
	}
	if p.dlq != nil && p.dlqURL == "" {
		errs = append(errs, errors.New("dead-letter queue URL is required with a dead-letter client"))
	}
	if p.dlq == nil && p.dlqURL != "" {
		errs = append(errs, errors.New("dead-letter client is required with a dead-letter queue URL"))
	}
	if (p.vis == nil) != (p.backoff == nil) {
		errs = append(errs, errors.New("backoff needs both a visibility client and a policy"))
	}
	if p.now == nil {
		errs = append(errs, errors.New("clock must not be nil"))
	}
	if p.maxReceives < 0 {
		errs = append(errs, fmt.Errorf("max receive count must not be negative, got %d", p.maxReceives))
	}
	if p.maxReceives > 0 && p.dlq == nil {
		errs = append(errs, errors.New("max receive count needs a dead-letter queue (WithDeadLetter)"))
	}
	if p.dlqMaxBytes < 1024 || p.dlqMaxBytes > message.MaxMessageBytes {
		errs = append(errs, fmt.Errorf("dead-letter max bytes must be from 1024 to %d, got %d", message.MaxMessageBytes, p.dlqMaxBytes))
	}
	for _, a := range p.accepts {
		switch {
		case a.typ == "":
			errs = append(errs, errors.New("accept: type is required"))
		case len(a.versions) == 0:
			errs = append(errs, fmt.Errorf("accept %s: at least one version is required", a.typ))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("new batch processor: %w", err)
	}
	if p.log == nil {
		p.log = logging.New()
	}
	if p.tracer == nil {
		p.tracer = tracing.NewTracer(tracing.Global())
	}
	p.pool = newWorkerPool(p, p.concurrency-1)
	p.spanName = lambdacontext.FunctionName
	if p.spanName == "" {
		p.spanName = "sqs-consumer"
	}
	return p, nil
}

// Process handles every record of event and reports the ones SQS must deliver
// again. The error is always nil: the signature fits lambda.Start, and an
// error would make Lambda retry the whole batch.
func (p *Processor) Process(ctx context.Context, event events.SQSEvent) (events.SQSEventResponse, error) {
	recs := event.Records
	if len(recs) == 0 {
		return events.SQSEventResponse{}, nil
	}
	base := logging.FromLambda(ctx, p.log)
	ctx, inv := p.startInvocation(ctx, recs)
	defer inv.End()
	failed := make([]bool, len(recs))
	p.pool.runLanes(groupLanes(recs), p.concurrency, func(lane []int) {
		p.runLane(ctx, base, recs, lane, failed)
	})
	var resp events.SQSEventResponse
	for i, f := range failed {
		if f {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: recs[i].MessageId})
		}
	}
	return resp, nil
}

// runLane processes a lane's records one after the other; after a failure
// the lane's later records are skipped (FIFO order) and marked failed.
func (p *Processor) runLane(ctx context.Context, base *logrus.Entry, recs []events.SQSMessage, lane []int, failed []bool) {
	for k, i := range lane {
		if p.record(ctx, base, &recs[i]) {
			failed[i] = true
			for _, j := range lane[k+1:] {
				failed[j] = true
				p.report(logging.ForRecord(base, recs[j]), nil, outcome{name: OutcomeSkipped, class: "fifo-group-failed"})
			}
			return
		}
	}
}

// record processes one record and reports whether it must be redelivered.
// ctx is the invocation's: the handler gets a child of it that expires the
// margin earlier (recordContext), while dead-lettering and visibility changes
// keep the full deadline.
func (p *Processor) record(ctx context.Context, base *logrus.Entry, rec *events.SQSMessage) bool {
	start := p.now()
	log := logging.ForRecord(base, *rec)
	rctx, cancel := p.recordContext(ctx)
	defer cancel()
	if err := rctx.Err(); err != nil {
		if p.lastReceive(rec) {
			return p.fail(ctx, log, nil, rec, 0, exhausted(rec, "never attempted: the invocation's deadline was too near", err))
		}
		// Never attempted: back at once rather than after the visibility
		// timeout. SQS still counted the receive (package documentation,
		// "Retry budget").
		o := outcome{name: OutcomeSkipped, class: "deadline", err: err}
		if p.vis != nil {
			o.fields = p.putBack(ctx, rec, 0)
		}
		p.report(log, nil, o)
		return true
	}
	rctx, span := p.startSpan(rctx, rec)
	// Dead-lettering and visibility changes keep the invocation's deadline
	// and appear beneath the record's span.
	ctx = tracing.ContextWithSpan(ctx, span)
	stack, err := p.call(logging.WithContext(rctx, log), rec)
	elapsed := p.now().Sub(start)
	if err == nil {
		p.report(log, span, outcome{name: OutcomeSuccess, elapsed: elapsed})
		return false
	}
	if stack != nil {
		p.report(log, span, outcome{name: OutcomePanic, elapsed: elapsed, class: "panic", err: err, fields: logrus.Fields{"stack": string(stack)}})
		return true
	}
	pe, ok := AsPermanent(err)
	if !ok && p.lastReceive(rec) {
		pe, ok = exhausted(rec, "still failing", err), true
	}
	if ok {
		return p.fail(ctx, log, span, rec, elapsed, pe)
	}
	o := outcome{name: OutcomeRetry, elapsed: elapsed, class: "transient", err: err}
	if d := p.visibilityFor(rec, err); d > 0 && p.vis != nil {
		o.fields = p.putBack(ctx, rec, d)
	}
	p.report(log, span, o)
	return true
}

// lastReceive reports whether rec is on (or past) the queue's last receive.
func (p *Processor) lastReceive(rec *events.SQSMessage) bool {
	return p.maxReceives > 0 && receiveCount(rec) >= p.maxReceives
}

// fail dead-letters rec for pe (or leaves it to the redrive policy when there
// is no DLQ) and reports whether SQS must deliver it again.
func (p *Processor) fail(ctx context.Context, log *logrus.Entry, span tracing.Span, rec *events.SQSMessage, elapsed time.Duration, pe *PermanentError) bool {
	o := outcome{name: OutcomeFailed, elapsed: elapsed, class: pe.Class, err: pe, fields: logrus.Fields{"reason": pe.Reason}}
	if p.dlq == nil {
		o.fields["dead_letter"] = "no dead-letter queue configured; left to the redrive policy"
		p.report(log, span, o)
		return true
	}
	dropped, trimmed, derr := p.deadLetter(ctx, rec, pe)
	if derr != nil {
		o.fields["dead_letter_error"] = derr.Error()
		p.report(log, span, o)
		return true
	}
	o.name = OutcomeDeadLettered
	if dropped > 0 {
		o.fields["dropped_attributes"] = dropped
	}
	if len(trimmed) > 0 {
		o.fields["trimmed_dead_letter"] = strings.Join(trimmed, ", ")
	}
	p.report(log, span, o)
	return false
}

// recordContext is the handler's context: ctx expiring the deadline margin
// before the invocation does.
func (p *Processor) recordContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if dl, ok := ctx.Deadline(); ok {
		return context.WithDeadline(ctx, dl.Add(-p.margin))
	}
	return ctx, func() {}
}

// call runs the handler, turning a panic into an error and a stack.
func (p *Processor) call(ctx context.Context, rec *events.SQSMessage) (stack []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			stack, err = debug.Stack(), fmt.Errorf("handler panicked: %v", r)
		}
	}()
	if err := p.checkVersion(rec); err != nil {
		return nil, err
	}
	return nil, p.handler(ctx, *rec)
}

func receiveCount(rec *events.SQSMessage) int {
	n, _ := strconv.Atoi(rec.Attributes["ApproximateReceiveCount"])
	return n
}
