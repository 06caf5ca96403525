package message

// Attribute names set by the producer on every message.
const (
	// AttrIdempotencyKey is the key consumers deduplicate on. It is stable
	// across the producer's own retries of the same logical message.
	AttrIdempotencyKey = "offload.idempotency-key"
	// AttrType names the kind of payload, e.g. "audit" or "sms".
	AttrType = "offload.type"
	// AttrVersion is the payload schema version of that type, e.g. "1".
	AttrVersion = "offload.version"
)

// Attribute names the batch processor adds when it sends a permanently failed
// record to the dead-letter queue itself.
const (
	// AttrFailureReason is a one-line, human-readable reason (no payload data).
	AttrFailureReason = "offload.failure-reason"
	// AttrFailureClass is the failure class: one of the Class constants
	// (failure.go), e.g. ClassDecode, ClassValidation, ClassUnknownOutcome.
	AttrFailureClass = "offload.failure-class"
	// AttrSourceQueue is the ARN of the queue the record was received from.
	AttrSourceQueue = "offload.source-queue"
	// AttrOriginalMessageID is the SQS MessageId the record had on that queue.
	AttrOriginalMessageID = "offload.original-message-id"
	// AttrReceiveCount is the ApproximateReceiveCount at the time of failure.
	AttrReceiveCount = "offload.receive-count"
	// AttrFailedAt is the RFC 3339 time the record was dead-lettered.
	AttrFailedAt = "offload.failed-at"
)

// Payload types produced by offload's own services.
const (
	TypeAudit = "audit"
	TypeSMS   = "sms"
)

// MaxAttributes is the most message attributes SQS accepts on one message.
const MaxAttributes = 10

// SystemAttrTraceHeader is the SQS message system attribute that carries the
// X-Ray trace header from producer to consumer. System attributes do not count
// towards the message size or the 10-attribute limit.
const SystemAttrTraceHeader = "AWSTraceHeader"

// MaxMessageBytes is SQS's largest message (body plus message attributes) and
// largest SendMessageBatch request payload: 1 MiB.
const MaxMessageBytes = 1 << 20
