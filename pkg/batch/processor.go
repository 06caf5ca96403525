package batch

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/sirupsen/logrus"

	"github.com/offload/offload/pkg/logging"
	"github.com/offload/offload/pkg/message"
	"github.com/offload/offload/pkg/tracing"
)

// Handler processes one SQS record. Its error decides the record's fate (see
// the package documentation). ctx carries the record's deadline and a record
// logger (logging.FromContext).
type Handler func(ctx context.Context, msg events.SQSMessage) error

// DeadLetterAPI is the subset of *sqs.Client operations used to dead-letter
// permanently failed records.
type DeadLetterAPI interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// VisibilityAPI is the subset of *sqs.Client operations used to delay the
// redelivery of transiently failed records.
type VisibilityAPI interface {
	GetQueueUrl(ctx context.Context, in *sqs.GetQueueUrlInput, optFns ...func(*sqs.Options)) (*sqs.GetQueueUrlOutput, error)
	ChangeMessageVisibility(ctx context.Context, in *sqs.ChangeMessageVisibilityInput, optFns ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error)
}

// BackoffPolicy returns how long a transiently failed record should stay
// invisible, from its ApproximateReceiveCount (1 on first delivery). Zero
// leaves the queue's visibility timeout alone.
type BackoffPolicy func(receiveCount int) time.Duration

// maxVisibility is SQS's longest visibility timeout.
const maxVisibility = 12 * time.Hour

// maxVisibilityChange is the longest visibility the processor asks for. SQS
// refuses a change reaching beyond 12 hours from the receive, and the change
// is made up to 15 minutes (Lambda's longest invocation) after it.
const maxVisibilityChange = maxVisibility - 15*time.Minute

// ExponentialBackoff returns a policy of base × 2^(receiveCount−1), capped at
// limit (and at SQS's 12 hours). It never overflows: every receive count, up
// to math.MaxInt, gives a delay between base and the cap, non-decreasing in
// the count.
func ExponentialBackoff(base, limit time.Duration) BackoffPolicy {
	limit = min(limit, maxVisibility)
	base = min(max(base, 0), limit)
	return func(receiveCount int) time.Duration {
		d := base
		if d == 0 {
			return 0
		}
		for n := max(receiveCount-1, 0); n > 0 && d < limit; n-- {
			if d > limit/2 {
				return limit
			}
			d *= 2
		}
		return min(d, limit)
	}
}

// RetryBudget is how long a record that fails transiently on every receive
// stays on its queue before SQS moves it to the DLQ: the sum of policy's
// delays over receives 1 … maxReceiveCount (SQS dead-letters on the receive
// after the last one). Processing time comes on top. Nil policy: 0 (the
// queue's visibility timeout alone decides).
func RetryBudget(policy BackoffPolicy, maxReceiveCount int) time.Duration {
	if policy == nil {
		return 0
	}
	var total time.Duration
	for n := 1; n <= maxReceiveCount; n++ {
		total += min(policy(n), maxVisibility)
	}
	return total
}

// Outcomes logged per record (field "outcome").
const (
	OutcomeSuccess      = "success"
	OutcomeRetry        = "retry"
	OutcomeDeadLettered = "dead-lettered"
	OutcomeFailed       = "failed"
	OutcomePanic        = "panic"
	OutcomeSkipped      = "skipped"
)

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

// DefaultDeadLetterMaxBytes is the DLQ's maximum message size assumed
// without WithDeadLetterMaxBytes: 256 KiB, the deployed queues' setting.
const DefaultDeadLetterMaxBytes = 256 * 1024

// WithMaxReceiveCount tells the processor the source queue's redrive
// maxReceiveCount. A record that fails transiently, or is skipped for the
// deadline, on that receive (or a later one) is dead-lettered with class
// ClassRetriesExhausted and the last error as its reason: SQS would otherwise
// move it on the next receive with no reason at all. Needs WithDeadLetter.
// 0 (the default) leaves the last receive to SQS.
func WithMaxReceiveCount(n int) Option { return func(p *Processor) { p.maxReceives = n } }

// WithDeadLetterMaxBytes sets the DLQ's maximum message size (its
// MaximumMessageSize attribute; default DefaultDeadLetterMaxBytes). The copy
// sent to the DLQ is trimmed to it (package documentation, "Dead letters").
func WithDeadLetterMaxBytes(n int) Option { return func(p *Processor) { p.dlqMaxBytes = n } }

// Accept declares a message type and the versions of it the handler
// understands (offload.type / offload.version, set by pkg/producer). Call it
// once per type. With at least one Accept, a record declaring another type or
// version fails permanently with ClassUnsupportedVersion before the handler
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
	accepts     []accepted
	queueURLs   sync.Map // source ARN → queue URL
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
	// Every record shares the invocation's deadline minus the margin; the
	// parent ctx (full deadline) stays for dead-lettering and visibility.
	rctx, cancel := p.recordContext(ctx)
	defer cancel()
	failed := make([]bool, len(recs))
	lanes := groupLanes(recs)
	workers := min(p.concurrency, len(lanes))
	if workers <= 1 {
		for _, lane := range lanes {
			p.runLane(ctx, rctx, base, recs, lane, failed)
		}
	} else {
		var next atomic.Int64
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				for {
					i := int(next.Add(1)) - 1
					if i >= len(lanes) {
						return
					}
					p.runLane(ctx, rctx, base, recs, lanes[i], failed)
				}
			})
		}
		wg.Wait()
	}
	var resp events.SQSEventResponse
	for i, f := range failed {
		if f {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: recs[i].MessageId})
		}
	}
	return resp, nil
}

// groupLanes splits the batch into lanes processed one record after the other:
// one per FIFO message group (in arrival order), one per other record.
func groupLanes(recs []events.SQSMessage) [][]int {
	lanes := make([][]int, 0, len(recs))
	var byGroup map[string]int
	for i := range recs {
		g := recs[i].Attributes["MessageGroupId"]
		if g == "" {
			lanes = append(lanes, []int{i})
			continue
		}
		key := recs[i].EventSourceARN + "\x00" + g
		if byGroup == nil {
			byGroup = make(map[string]int)
		}
		if li, ok := byGroup[key]; ok {
			lanes[li] = append(lanes[li], i)
			continue
		}
		byGroup[key] = len(lanes)
		lanes = append(lanes, []int{i})
	}
	return lanes
}

func (p *Processor) runLane(ctx, rctx context.Context, base *logrus.Entry, recs []events.SQSMessage, lane []int, failed []bool) {
	for k, i := range lane {
		if p.record(ctx, rctx, base, &recs[i]) {
			failed[i] = true
			for _, j := range lane[k+1:] {
				failed[j] = true
				p.logOutcome(nil, logging.ForRecord(base, recs[j]), OutcomeSkipped, 0, "fifo-group-failed", nil, nil)
			}
			return
		}
	}
}

// record processes one record and reports whether it must be redelivered.
// rctx is the records' context (deadline minus margin), ctx the invocation's.
func (p *Processor) record(ctx, rctx context.Context, base *logrus.Entry, rec *events.SQSMessage) bool {
	start := p.now()
	log := logging.ForRecord(base, *rec)
	if err := rctx.Err(); err != nil {
		if p.lastReceive(rec) {
			return p.fail(ctx, nil, log, rec, 0, exhausted(rec, "never attempted: the invocation's deadline was too near", err))
		}
		// Never attempted: back at once rather than after the visibility
		// timeout. SQS still counted the receive (package documentation,
		// "Retry budget").
		var extra logrus.Fields
		if p.vis != nil {
			extra = logrus.Fields{"retry_after_s": 0}
			if verr := p.changeVisibility(ctx, rec, 0); verr != nil {
				extra["visibility_error"] = verr.Error()
			}
		}
		p.logOutcome(nil, log, OutcomeSkipped, 0, "deadline", err, extra)
		return true
	}
	rctx, span := p.startSpan(rctx, rec)
	// Dead-lettering and visibility changes keep the invocation's deadline
	// and appear beneath the record's span.
	ctx = tracing.ContextWithSpan(ctx, span)
	stack, err := p.call(logging.WithContext(rctx, log), rec)
	elapsed := p.now().Sub(start)
	if err == nil {
		p.logOutcome(span, log, OutcomeSuccess, elapsed, "", nil, nil)
		return false
	}
	if stack != nil {
		p.logOutcome(span, log, OutcomePanic, elapsed, "panic", err, logrus.Fields{"stack": string(stack)})
		return true
	}
	pe, ok := AsPermanent(err)
	if !ok && p.lastReceive(rec) {
		pe, ok = exhausted(rec, "still failing", err), true
	}
	if ok {
		return p.fail(ctx, span, log, rec, elapsed, pe)
	}
	var extra logrus.Fields
	if d := p.visibilityFor(rec, err); d > 0 && p.vis != nil {
		extra = logrus.Fields{"retry_after_s": int(d / time.Second)}
		if verr := p.changeVisibility(ctx, rec, d); verr != nil {
			extra["visibility_error"] = verr.Error()
		}
	}
	p.logOutcome(span, log, OutcomeRetry, elapsed, "transient", err, extra)
	return true
}

// lastReceive reports whether rec is on (or past) the queue's last receive.
func (p *Processor) lastReceive(rec *events.SQSMessage) bool {
	return p.maxReceives > 0 && receiveCount(rec) >= p.maxReceives
}

// exhausted is the permanent failure of a record whose last receive failed
// transiently: the reason names the receive and the cause (one line, masked).
func exhausted(rec *events.SQSMessage, what string, cause error) *PermanentError {
	msg := logging.Mask(cause.Error())
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	reason := fmt.Sprintf("%s on receive %d, the queue's last: %s", what, receiveCount(rec), msg)
	return &PermanentError{Class: ClassRetriesExhausted, Reason: reason, Err: cause}
}

// fail dead-letters rec for pe (or leaves it to the redrive policy when there
// is no DLQ) and reports whether SQS must deliver it again.
func (p *Processor) fail(ctx context.Context, span tracing.Span, log *logrus.Entry, rec *events.SQSMessage, elapsed time.Duration, pe *PermanentError) bool {
	err := error(pe)
	if p.dlq == nil {
		p.logOutcome(span, log, OutcomeFailed, elapsed, pe.Class, err, logrus.Fields{"reason": pe.Reason, "dead_letter": "no dead-letter queue configured; left to the redrive policy"})
		return true
	}
	dropped, trimmed, derr := p.deadLetter(ctx, rec, pe)
	if derr != nil {
		p.logOutcome(span, log, OutcomeFailed, elapsed, pe.Class, err, logrus.Fields{"reason": pe.Reason, "dead_letter_error": derr.Error()})
		return true
	}
	fields := logrus.Fields{"reason": pe.Reason}
	if dropped > 0 {
		fields["dropped_attributes"] = dropped
	}
	if len(trimmed) > 0 {
		fields["trimmed_dead_letter"] = strings.Join(trimmed, ", ")
	}
	p.logOutcome(span, log, OutcomeDeadLettered, elapsed, pe.Class, err, fields)
	return false
}

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
func endSpan(span tracing.Span, outcome, class string, err error) {
	span.Annotate(annotationOutcome, outcome)
	if class != "" {
		span.Annotate(annotationErrorClass, class)
	}
	if err != nil {
		kind := tracing.Fault
		if _, permanent := AsPermanent(err); permanent && outcome != OutcomePanic {
			kind = tracing.ClientError
		}
		span.SetError(maskedError{err}, kind)
	}
	span.End()
}

// maskedError is err with its message masked (logging.Mask).
type maskedError struct{ err error }

func (m maskedError) Error() string { return logging.Mask(m.err.Error()) }
func (m maskedError) Unwrap() error { return m.err }

// logOutcome logs the record's outcome and, when span is not nil, ends it
// with the outcome.
func (p *Processor) logOutcome(span tracing.Span, log *logrus.Entry, outcome string, d time.Duration, class string, err error, extra logrus.Fields) {
	if span != nil {
		endSpan(span, outcome, class, err)
	}
	data := make(logrus.Fields, len(log.Data)+4+len(extra))
	maps.Copy(data, log.Data)
	data[logging.FieldOutcome] = outcome
	data[logging.FieldDurationMS] = float64(d.Microseconds()) / 1000
	if class != "" {
		data[logging.FieldErrorClass] = class
	}
	if err != nil {
		data[logging.FieldError] = err
	}
	maps.Copy(data, extra)
	e := &logrus.Entry{Logger: log.Logger, Data: data, Context: log.Context}
	switch outcome {
	case OutcomeSuccess, OutcomeDeadLettered:
		e.Info("record " + outcome)
	case OutcomeRetry, OutcomeSkipped:
		e.Warn("record " + outcome)
	default:
		e.Error("record " + outcome)
	}
}

func receiveCount(rec *events.SQSMessage) int {
	n, _ := strconv.Atoi(rec.Attributes["ApproximateReceiveCount"])
	return n
}

func (p *Processor) visibilityFor(rec *events.SQSMessage, err error) time.Duration {
	var te *TransientError
	if errors.As(err, &te) && te.Backoff > 0 {
		return min(te.Backoff, maxVisibility)
	}
	if p.backoff != nil {
		return min(p.backoff(receiveCount(rec)), maxVisibility)
	}
	return 0
}

func (p *Processor) changeVisibility(ctx context.Context, rec *events.SQSMessage, d time.Duration) error {
	url, err := p.queueURL(ctx, rec.EventSourceARN)
	if err != nil {
		return err
	}
	// Whole seconds, at least 1 for a delay (0 only when asked for: a
	// record put back at once), within SQS's 12 hours from the receive.
	secs := int32(0)
	if d > 0 {
		secs = int32(min(max(d/time.Second, 1), maxVisibilityChange/time.Second))
	}
	_, err = p.vis.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
		QueueUrl: &url, ReceiptHandle: &rec.ReceiptHandle, VisibilityTimeout: secs,
	})
	if err != nil {
		return fmt.Errorf("change visibility of %s to %ds: %w", rec.MessageId, secs, err)
	}
	return nil
}

// queueURL resolves a queue ARN (arn:aws:sqs:region:account:name) to its URL
// with GetQueueUrl, once per ARN.
func (p *Processor) queueURL(ctx context.Context, arn string) (string, error) {
	if u, ok := p.queueURLs.Load(arn); ok {
		return u.(string), nil
	}
	parts := strings.Split(arn, ":")
	if len(parts) != 6 || parts[2] != "sqs" {
		return "", fmt.Errorf("resolve queue URL: %q is not an SQS queue ARN", arn)
	}
	out, err := p.vis.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: &parts[5], QueueOwnerAWSAccountId: &parts[4]})
	if err != nil {
		return "", fmt.Errorf("resolve queue URL of %s: %w", arn, err)
	}
	url := aws.ToString(out.QueueUrl)
	p.queueURLs.Store(arn, url)
	return url, nil
}

// maxReasonBytes bounds the reason stored on a dead-lettered message.
const maxReasonBytes = 1024

// deadLetterCopy is what deadLetter sends: the failure attributes, then the
// copied ones, trimmed to fit.
type deadLetterCopy struct {
	attrs   map[string]types.MessageAttributeValue
	copied  []string // names of copied attributes, most important first
	dropped int      // copied attributes left out
	trimmed []string // what fitting to the DLQ's limit cost, for the log
}

// attrSize is an attribute's share of SQS's message size: name, data type and
// value.
func attrSize(name string, a types.MessageAttributeValue) int {
	return len(name) + len(aws.ToString(a.DataType)) + len(aws.ToString(a.StringValue)) + len(a.BinaryValue)
}

func (c *deadLetterCopy) size(body string) int {
	n := len(body)
	for name, a := range c.attrs {
		n += attrSize(name, a)
	}
	return n
}

// fit trims the copy to limit bytes, keeping the body intact: first the
// reason (cut on a character, down to nothing), then the copied attributes
// (least important first), then the failure metadata except the class and
// the original message id. A body that leaves no room even for those two is
// sent with no attributes at all: the reason is then in the log only.
func (c *deadLetterCopy) fit(body string, limit int) {
	over := c.size(body) - limit
	if over <= 0 {
		return
	}
	if r, ok := c.attrs[message.AttrFailureReason]; ok {
		v := aws.ToString(r.StringValue)
		keep := max(len(v)-over, 0)
		for keep > 0 && !utf8.RuneStart(v[keep]) {
			keep--
		}
		if keep > 0 {
			c.attrs[message.AttrFailureReason] = types.MessageAttributeValue{DataType: r.DataType, StringValue: aws.String(v[:keep])}
			c.trimmed = append(c.trimmed, "reason")
			return
		}
		delete(c.attrs, message.AttrFailureReason)
		c.trimmed = append(c.trimmed, "reason removed")
		over = c.size(body) - limit
	}
	for i := len(c.copied) - 1; i >= 0 && over > 0; i-- {
		name := c.copied[i]
		over -= attrSize(name, c.attrs[name])
		delete(c.attrs, name)
		c.dropped++
		c.trimmed = append(c.trimmed, "copied "+name)
	}
	for _, name := range []string{message.AttrFailedAt, message.AttrReceiveCount, message.AttrSourceQueue} {
		if over <= 0 {
			return
		}
		over -= attrSize(name, c.attrs[name])
		delete(c.attrs, name)
		c.trimmed = append(c.trimmed, name)
	}
	if over > 0 {
		clear(c.attrs)
		c.trimmed = append(c.trimmed, "all attributes")
	}
}

// deadLetter sends rec to the DLQ with the failure attributes and as many of
// its own attributes as fit in SQS's 10 (the producer's first), trimmed to
// the DLQ's maximum message size. It returns how many original attributes
// had to be dropped and what trimming cost.
func (p *Processor) deadLetter(ctx context.Context, rec *events.SQSMessage, pe *PermanentError) (int, []string, error) {
	str := func(v string) types.MessageAttributeValue {
		return types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
	}
	reason := pe.Reason
	if len(reason) > maxReasonBytes {
		reason = strings.ToValidUTF8(reason[:maxReasonBytes], "")
	}
	if reason == "" {
		reason = "(no reason given)"
	}
	class := pe.Class
	if class == "" {
		class = "unclassified"
	}
	c := &deadLetterCopy{attrs: make(map[string]types.MessageAttributeValue, message.MaxAttributes)}
	attrs := c.attrs
	attrs[message.AttrFailureReason] = str(reason)
	attrs[message.AttrFailureClass] = str(class)
	attrs[message.AttrSourceQueue] = str(rec.EventSourceARN)
	attrs[message.AttrOriginalMessageID] = str(rec.MessageId)
	attrs[message.AttrReceiveCount] = str(strconv.Itoa(receiveCount(rec)))
	attrs[message.AttrFailedAt] = str(p.now().UTC().Format(time.RFC3339))

	names := make([]string, 0, len(rec.MessageAttributes))
	for name := range rec.MessageAttributes {
		if _, ours := attrs[name]; !ours {
			names = append(names, name)
		}
	}
	sort.Slice(names, func(i, j int) bool {
		pi, pj := producerRank(names[i]), producerRank(names[j])
		if pi != pj {
			return pi < pj
		}
		return names[i] < names[j]
	})
	for _, name := range names {
		a := rec.MessageAttributes[name]
		if len(attrs) >= message.MaxAttributes || (a.StringValue == nil && a.BinaryValue == nil) {
			c.dropped++
			continue
		}
		attrs[name] = types.MessageAttributeValue{DataType: aws.String(a.DataType), StringValue: a.StringValue, BinaryValue: a.BinaryValue}
		c.copied = append(c.copied, name)
	}
	c.fit(rec.Body, p.dlqMaxBytes)
	in := &sqs.SendMessageInput{QueueUrl: &p.dlqURL, MessageBody: &rec.Body, MessageAttributes: attrs}
	if th := rec.Attributes[message.SystemAttrTraceHeader]; th != "" {
		in.MessageSystemAttributes = map[string]types.MessageSystemAttributeValue{
			message.SystemAttrTraceHeader: {DataType: aws.String("String"), StringValue: aws.String(th)},
		}
	}
	if strings.HasSuffix(p.dlqURL, ".fifo") {
		group := rec.Attributes["MessageGroupId"]
		if group == "" {
			group = "dead-letter"
		}
		in.MessageGroupId = &group
		in.MessageDeduplicationId = &rec.MessageId
	}
	if len(attrs) == 0 {
		in.MessageAttributes = nil
	}
	if _, err := p.dlq.SendMessage(ctx, in); err != nil {
		return c.dropped, c.trimmed, fmt.Errorf("dead-letter %s to %s: %w", rec.MessageId, p.dlqURL, err)
	}
	return c.dropped, c.trimmed, nil
}

// producerRank orders the producer's attributes first when space is short.
func producerRank(name string) int {
	switch name {
	case message.AttrIdempotencyKey:
		return 0
	case message.AttrType:
		return 1
	case message.AttrVersion:
		return 2
	}
	return 3
}
