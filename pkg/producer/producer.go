package producer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
	"go.opentelemetry.io/otel/trace"

	"github.com/offload/offload/internal/backoff"
	"github.com/offload/offload/pkg/message"
	"github.com/offload/offload/pkg/tracing"
)

// SQSAPI is the subset of *sqs.Client operations the Publisher uses.
type SQSAPI interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
	SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
}

// DefaultVersion is the schema version a message gets when neither the
// message nor WithDefaultType names one.
const DefaultVersion = "1"

// maxBatchEntries is SQS's limit of entries per SendMessageBatch.
const maxBatchEntries = 10

// producerAttrs is how many message attributes the Publisher itself sets.
const producerAttrs = 3

// Message is one message to publish. Only Body and a type (here or through
// WithDefaultType) are required.
type Message struct {
	// Body is the payload, typically JSON. SQS requires at least one character.
	Body string
	// Type names the payload kind (message.AttrType), e.g. message.TypeAudit.
	// Empty means the Publisher's default type.
	Type string
	// Version is the payload schema version (message.AttrVersion). Empty
	// means the Publisher's default version, "1" unless configured.
	Version string
	// IdempotencyKey is what consumers deduplicate on. Empty means the
	// Publisher generates one (UUID v4) before the first attempt; it stays
	// the same across the Publisher's retries and is returned in Result.
	IdempotencyKey string
	// Attributes are extra String message attributes. SQS allows 10 per
	// message and the Publisher uses 3, so at most 7; names starting with
	// "offload." are reserved. A traced message also gets "traceparent" (W3C)
	// when it has fewer than 7 and sets none itself.
	Attributes map[string]string
	// GroupID is the MessageGroupId; required for FIFO queues.
	GroupID string
	// DeduplicationID is the FIFO MessageDeduplicationId. Empty means the
	// idempotency key (hashed when longer than 128 characters).
	DeduplicationID string
	// DelaySeconds delays delivery (0–900; standard queues only).
	DelaySeconds int32
	// TraceHeader is the X-Ray trace header to send as AWSTraceHeader. Empty
	// means the send's own (tracing.StartSend: the "SQS" span, child of the
	// trace in the context passed to Publish).
	TraceHeader string
}

// Result is the outcome of publishing one message.
type Result struct {
	// MessageID is the SQS MessageId when the message was accepted.
	MessageID string
	// IdempotencyKey is the key the message was (or would have been) sent with.
	IdempotencyKey string
	// Err is nil when the message was accepted. Otherwise it wraps a
	// *SizeError or ErrInvalidMessage (rejected before any call), an
	// *EntryError (SQS refused the entry), or the call's error.
	Err error
}

// RetryPolicy bounds the Publisher's own retries of retryable failures:
// throttling, service faults, and connection errors. The SQS client's retryer
// runs inside each attempt as configured on the client.
type RetryPolicy struct {
	// MaxAttempts is the total number of attempts per message, first
	// included (default 4; 1 disables retries).
	MaxAttempts int
	// BaseDelay is the backoff before the second attempt (default 50ms); it
	// doubles per attempt, with jitter between half and all of it.
	BaseDelay time.Duration
	// MaxDelay caps the backoff (default 2s).
	MaxDelay time.Duration
}

// DefaultRetryPolicy is the policy a Publisher uses unless WithRetry says
// otherwise.
var DefaultRetryPolicy = RetryPolicy{MaxAttempts: 4, BaseDelay: 50 * time.Millisecond, MaxDelay: 2 * time.Second}

// Option configures a Publisher.
type Option func(*Publisher)

// WithMaxMessageBytes sets the size guard: the largest message (body plus
// attributes) Publish accepts. Default message.MaxMessageBytes (1 MiB); set it
// to the queue's MaximumMessageSize when that is smaller.
func WithMaxMessageBytes(n int) Option { return func(p *Publisher) { p.maxMessage = n } }

// WithMaxBatchBytes sets the largest SendMessageBatch payload (sum of the
// entries' sizes). Default message.MaxMessageBytes (1 MiB), SQS's limit.
func WithMaxBatchBytes(n int) Option { return func(p *Publisher) { p.maxBatch = n } }

// WithRetry replaces DefaultRetryPolicy; zero fields take the defaults.
func WithRetry(r RetryPolicy) Option { return func(p *Publisher) { p.retry = r } }

// WithSleep replaces the wait between attempts (for tests). The function must
// return ctx.Err() when ctx ends before d has passed.
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(p *Publisher) { p.sleep = sleep }
}

// WithDefaultType sets the type and version for messages that name none.
// An empty version means DefaultVersion.
func WithDefaultType(typ, version string) Option {
	return func(p *Publisher) { p.defType, p.defVersion = typ, version }
}

// WithTracerProvider sets the OpenTelemetry TracerProvider the sends are
// traced with (default: the global one, tracing.Global). Each Publish or
// PublishBatch is one "SQS" send span, child of the trace in the context;
// its messages carry AWSTraceHeader and a W3C traceparent attribute naming
// it (tracing.StartSend).
func WithTracerProvider(tp trace.TracerProvider) Option { return func(p *Publisher) { p.tracer = tp } }

// Publisher publishes to one queue. It is safe for concurrent use by multiple
// goroutines; build one per queue at init and share it.
type Publisher struct {
	client     SQSAPI
	queueURL   string
	fifo       bool
	maxMessage int
	maxBatch   int
	retry      RetryPolicy
	sleep      func(context.Context, time.Duration) error
	defType    string
	defVersion string
	tracer     trace.TracerProvider
}

// New returns a Publisher for the queue at queueURL. It reports every
// configuration problem at once.
func New(client SQSAPI, queueURL string, opts ...Option) (*Publisher, error) {
	p := &Publisher{
		client:     client,
		queueURL:   queueURL,
		fifo:       strings.HasSuffix(queueURL, ".fifo"),
		maxMessage: message.MaxMessageBytes,
		maxBatch:   message.MaxMessageBytes,
		retry:      DefaultRetryPolicy,
		sleep:      backoff.Wait,
	}
	for _, o := range opts {
		o(p)
	}
	if p.retry.MaxAttempts == 0 {
		p.retry.MaxAttempts = DefaultRetryPolicy.MaxAttempts
	}
	if p.retry.BaseDelay == 0 {
		p.retry.BaseDelay = DefaultRetryPolicy.BaseDelay
	}
	if p.retry.MaxDelay == 0 {
		p.retry.MaxDelay = DefaultRetryPolicy.MaxDelay
	}
	if p.defVersion == "" {
		p.defVersion = DefaultVersion
	}
	var errs []error
	if client == nil {
		errs = append(errs, errors.New("SQS client is required"))
	}
	if queueURL == "" {
		errs = append(errs, errors.New("queue URL is required"))
	}
	if p.maxMessage <= 0 {
		errs = append(errs, fmt.Errorf("max message bytes must be positive, got %d", p.maxMessage))
	}
	if p.maxBatch < p.maxMessage {
		errs = append(errs, fmt.Errorf("max batch bytes (%d) must be at least max message bytes (%d)", p.maxBatch, p.maxMessage))
	}
	if p.retry.MaxAttempts < 1 || p.retry.BaseDelay < 0 || p.retry.MaxDelay < p.retry.BaseDelay {
		errs = append(errs, fmt.Errorf("retry policy %+v: want MaxAttempts ≥ 1 and 0 ≤ BaseDelay ≤ MaxDelay", p.retry))
	}
	if p.sleep == nil {
		errs = append(errs, errors.New("sleep function must not be nil"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("new publisher: %w", err)
	}
	return p, nil
}

// QueueURL returns the queue the Publisher sends to.
func (p *Publisher) QueueURL() string { return p.queueURL }

// Publish sends one message with SendMessage, retrying retryable failures.
// The returned error is Result.Err. Safe for concurrent use.
func (p *Publisher) Publish(ctx context.Context, msg Message) (Result, error) {
	if msg.IdempotencyKey == "" {
		msg.IdempotencyKey = NewIdempotencyKey()
	}
	res := Result{IdempotencyKey: msg.IdempotencyKey}
	ctx, send := tracing.StartSend(ctx, p.tracer, p.queueURL, "SendMessage")
	defer func() { send.End(res.Err) }()
	e, _, err := p.prepare(&msg, &msg.IdempotencyKey, traceAttrs(send.AWSTraceHeader))
	if err != nil {
		res.Err = fmt.Errorf("publish %s: %w", res.IdempotencyKey, err)
		return res, res.Err
	}
	in := &sqs.SendMessageInput{
		QueueUrl:                &p.queueURL,
		MessageBody:             e.MessageBody,
		MessageAttributes:       e.MessageAttributes,
		MessageSystemAttributes: e.MessageSystemAttributes,
		MessageGroupId:          e.MessageGroupId,
		MessageDeduplicationId:  e.MessageDeduplicationId,
		DelaySeconds:            e.DelaySeconds,
	}
	for attempt := 1; ; attempt++ {
		out, err := p.client.SendMessage(ctx, in)
		if err == nil {
			res.MessageID = aws.ToString(out.MessageId)
			return res, nil
		}
		res.Err = fmt.Errorf("publish %s to %s: %w", res.IdempotencyKey, p.queueURL, err)
		if !retryableCall(err) || attempt >= p.retry.MaxAttempts {
			return res, res.Err
		}
		if serr := p.sleep(ctx, p.backoff(attempt)); serr != nil {
			res.Err = fmt.Errorf("%w (gave up retrying: %w)", res.Err, serr)
			return res, res.Err
		}
	}
}

// PublishBatch sends msgs with SendMessageBatch, in chunks of at most 10
// entries and the batch byte limit, and returns one Result per message in the
// order given. Messages that fail validation (size guard included) are
// reported without being sent; the others are sent. Entries that fail
// retryably are sent again (only those) with backoff, up to the retry
// policy's attempts.
//
// The error is nil when every message was accepted; otherwise it is a
// *BatchError and the Results say which messages failed and why. msgs is
// only read. Safe for concurrent use.
func (p *Publisher) PublishBatch(ctx context.Context, msgs []Message) ([]Result, error) {
	results := make([]Result, len(msgs))
	if len(msgs) == 0 {
		return results, nil
	}
	missing := 0
	for i := range msgs {
		if msgs[i].IdempotencyKey == "" {
			missing++
		}
	}
	var keys []string
	if missing > 0 {
		keys = newKeys(missing)
	}
	ctx, send := tracing.StartSend(ctx, p.tracer, p.queueURL, "SendMessageBatch")
	sys := traceAttrs(send.AWSTraceHeader)
	entries := make([]types.SendMessageBatchRequestEntry, len(msgs))
	sizes := make([]int, len(msgs))
	pending := make([]int, 0, len(msgs))
	for i := range msgs {
		r := &results[i]
		r.IdempotencyKey = msgs[i].IdempotencyKey
		if r.IdempotencyKey == "" {
			r.IdempotencyKey, keys = keys[0], keys[1:]
		}
		var err error
		entries[i], sizes[i], err = p.prepare(&msgs[i], &r.IdempotencyKey, sys)
		if err != nil {
			r.Err = fmt.Errorf("publish %s: %w", r.IdempotencyKey, err)
			continue
		}
		pending = append(pending, i)
	}
	p.sendBatch(ctx, entries, sizes, pending, results)
	err := batchError(results)
	send.End(err)
	return results, err
}

// batchIDs are the entry ids within one SendMessageBatch request.
var batchIDs = [maxBatchEntries]string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}

func (p *Publisher) sendBatch(ctx context.Context, entries []types.SendMessageBatchRequestEntry, sizes, pending []int, results []Result) {
	var chunk [maxBatchEntries]types.SendMessageBatchRequestEntry
	var idx [maxBatchEntries]int
	in := &sqs.SendMessageBatchInput{QueueUrl: &p.queueURL}
	for attempt := 1; len(pending) > 0; attempt++ {
		var retry []int
		for start := 0; start < len(pending); {
			n, bytes := 0, 0
			for start < len(pending) && n < maxBatchEntries {
				i := pending[start]
				if n > 0 && bytes+sizes[i] > p.maxBatch {
					break
				}
				chunk[n] = entries[i]
				chunk[n].Id = &batchIDs[n]
				idx[n] = i
				bytes += sizes[i]
				n++
				start++
			}
			in.Entries = chunk[:n]
			out, err := p.client.SendMessageBatch(ctx, in)
			if err != nil {
				werr := fmt.Errorf("send message batch to %s: %w", p.queueURL, err)
				again := retryableCall(err)
				for _, i := range idx[:n] {
					results[i].Err = werr
					if again {
						retry = append(retry, i)
					}
				}
				continue
			}
			var seen [maxBatchEntries]bool
			for _, s := range out.Successful {
				if j := entryIndex(s.Id, n); j >= 0 {
					results[idx[j]].MessageID = aws.ToString(s.MessageId)
					results[idx[j]].Err = nil
					seen[j] = true
				}
			}
			for _, f := range out.Failed {
				j := entryIndex(f.Id, n)
				if j < 0 || seen[j] {
					continue
				}
				seen[j] = true
				ee := &EntryError{Code: aws.ToString(f.Code), Message: aws.ToString(f.Message), SenderFault: f.SenderFault}
				ee.Retryable = retryableEntry(ee)
				results[idx[j]].Err = fmt.Errorf("publish %s to %s: %w", results[idx[j]].IdempotencyKey, p.queueURL, ee)
				if ee.Retryable {
					retry = append(retry, idx[j])
				}
			}
			for j := range n {
				if !seen[j] {
					// SQS answered without this entry: treat as a service fault.
					results[idx[j]].Err = fmt.Errorf("publish %s to %s: %w", results[idx[j]].IdempotencyKey, p.queueURL,
						&EntryError{Code: "MissingEntry", Message: "entry absent from the SendMessageBatch response", Retryable: true})
					retry = append(retry, idx[j])
				}
			}
		}
		if len(retry) == 0 || attempt >= p.retry.MaxAttempts {
			return
		}
		if err := p.sleep(ctx, p.backoff(attempt)); err != nil {
			for _, i := range retry {
				results[i].Err = fmt.Errorf("%w (gave up retrying: %w)", results[i].Err, err)
			}
			return
		}
		pending = retry
	}
}

func entryIndex(id *string, n int) int {
	if id == nil || len(*id) != 1 {
		return -1
	}
	j := int((*id)[0] - '0')
	if j < 0 || j >= n {
		return -1
	}
	return j
}

func batchError(results []Result) error {
	var be *BatchError
	for i := range results {
		err := results[i].Err
		if err == nil {
			continue
		}
		if be == nil {
			be = &BatchError{Total: len(results)}
		}
		be.Failed++
		if len(be.Errs) < 10 && (len(be.Errs) == 0 || be.Errs[len(be.Errs)-1] != err) {
			be.Errs = append(be.Errs, err)
		}
	}
	if be == nil {
		return nil
	}
	return be
}

// dataTypeString is shared by every attribute value; the SDK only reads it.
var dataTypeString = "String"

const dataTypeLen = len("String")

func traceAttrs(header string) map[string]types.MessageSystemAttributeValue {
	if header == "" {
		return nil
	}
	return map[string]types.MessageSystemAttributeValue{
		message.SystemAttrTraceHeader: {DataType: &dataTypeString, StringValue: &header},
	}
}

// prepare validates m and builds its batch entry (Id unset) and its size as
// SQS counts it. key points at the message's idempotency key; sys is the
// shared system-attribute map for the call (read-only).
func (p *Publisher) prepare(m *Message, key *string, sys map[string]types.MessageSystemAttributeValue) (types.SendMessageBatchRequestEntry, int, error) {
	var e types.SendMessageBatchRequestEntry
	typ, ver := &m.Type, &m.Version
	if m.Type == "" {
		typ = &p.defType
	}
	if m.Version == "" {
		ver = &p.defVersion
	}
	var problems []string
	if m.Body == "" {
		problems = append(problems, "body is empty")
	}
	if *typ == "" {
		problems = append(problems, "type is required (Message.Type or WithDefaultType)")
	}
	if n := len(m.Attributes) + producerAttrs; n > message.MaxAttributes {
		problems = append(problems, fmt.Sprintf("%d message attributes, SQS allows %d (%d are the producer's)", n, message.MaxAttributes, producerAttrs))
	}
	if m.DelaySeconds < 0 || m.DelaySeconds > 900 || (p.fifo && m.DelaySeconds != 0) {
		problems = append(problems, fmt.Sprintf("delay %ds: want 0–900 on a standard queue, 0 on a FIFO queue", m.DelaySeconds))
	}
	if p.fifo && m.GroupID == "" {
		problems = append(problems, "group id is required on a FIFO queue")
	}
	size := len(m.Body) +
		len(message.AttrIdempotencyKey) + dataTypeLen + len(*key) +
		len(message.AttrType) + dataTypeLen + len(*typ) +
		len(message.AttrVersion) + dataTypeLen + len(*ver)
	attrs := make(map[string]types.MessageAttributeValue, producerAttrs+len(m.Attributes))
	attrs[message.AttrIdempotencyKey] = types.MessageAttributeValue{DataType: &dataTypeString, StringValue: key}
	attrs[message.AttrType] = types.MessageAttributeValue{DataType: &dataTypeString, StringValue: typ}
	attrs[message.AttrVersion] = types.MessageAttributeValue{DataType: &dataTypeString, StringValue: ver}
	header := m.TraceHeader
	if header == "" {
		if h, ok := sys[message.SystemAttrTraceHeader]; ok && h.StringValue != nil {
			header = *h.StringValue
		}
	}
	// The W3C traceparent of the same send, for consumers outside X-Ray,
	// when the message has an attribute to spare.
	if _, own := m.Attributes[tracing.W3CTraceParentAttr]; !own && len(m.Attributes)+producerAttrs < message.MaxAttributes {
		if tp := tracing.TraceParentOf(header); tp != "" {
			attrs[tracing.W3CTraceParentAttr] = types.MessageAttributeValue{DataType: &dataTypeString, StringValue: &tp}
			size += len(tracing.W3CTraceParentAttr) + dataTypeLen + len(tp)
		}
	}
	for k, v := range m.Attributes {
		if strings.HasPrefix(k, "offload.") || k == "" {
			problems = append(problems, fmt.Sprintf("attribute name %q is reserved or empty", k))
			continue
		}
		attrs[k] = types.MessageAttributeValue{DataType: &dataTypeString, StringValue: &v}
		size += len(k) + dataTypeLen + len(v)
	}
	if len(problems) > 0 {
		return e, size, fmt.Errorf("%w: %s", ErrInvalidMessage, strings.Join(problems, "; "))
	}
	if size > p.maxMessage {
		return e, size, &SizeError{Size: size, Limit: p.maxMessage}
	}
	e.MessageBody = &m.Body
	e.MessageAttributes = attrs
	e.MessageSystemAttributes = sys
	if m.TraceHeader != "" {
		e.MessageSystemAttributes = traceAttrs(m.TraceHeader)
	}
	e.DelaySeconds = m.DelaySeconds
	if m.GroupID != "" {
		e.MessageGroupId = &m.GroupID
	}
	if p.fifo {
		switch {
		case m.DeduplicationID != "":
			e.MessageDeduplicationId = &m.DeduplicationID
		case len(*key) <= 128:
			e.MessageDeduplicationId = key
		default:
			sum := sha256.Sum256([]byte(*key))
			d := hex.EncodeToString(sum[:])
			e.MessageDeduplicationId = &d
		}
	}
	return e, size, nil
}

// backoff is the jittered wait before retry attempt+1.
func (p *Publisher) backoff(attempt int) time.Duration {
	return backoff.HalfJitter(backoff.Exponential(p.retry.BaseDelay, p.retry.MaxDelay, attempt))
}

var retryables = retry.IsErrorRetryables(retry.DefaultRetryables)

// retryableCall reports whether a whole call's error is worth another attempt:
// throttling, 5xx, connection errors; never a cancelled or expired context.
func retryableCall(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if retryables.IsErrorRetryable(err) == aws.TrueTernary {
		return true
	}
	var ae smithy.APIError
	return errors.As(err, &ae) && (ae.ErrorFault() == smithy.FaultServer || retryableCode(ae.ErrorCode()))
}

// retryableEntry reports whether SQS's per-entry failure may succeed on
// another attempt: its own faults and throttling, not the request's.
func retryableEntry(e *EntryError) bool {
	return !e.SenderFault || retryableCode(e.Code)
}

func retryableCode(code string) bool {
	if _, ok := retry.DefaultThrottleErrorCodes[code]; ok {
		return true
	}
	if _, ok := retry.DefaultRetryableErrorCodes[code]; ok {
		return true
	}
	switch code {
	case "KmsThrottled", "ServiceUnavailable", "InternalError", "InternalFailure", "RequestThrottled":
		return true
	}
	return false
}
