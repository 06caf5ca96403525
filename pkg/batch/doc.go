// Package batch turns a per-record handler into an SQS partial batch response
// (events.SQSEventResponse), so that one bad record never redelivers the
// records that succeeded.
//
// The handler's error says what happens to the record:
//   - nil: the record is acknowledged.
//   - a permanent error (Permanent, or any Classified error whose Permanent
//     method answers true; e.g. the body cannot be decoded or fails
//     validation): retrying cannot help. The record is sent at once to the
//     dead-letter queue with its reason in message attributes (pkg/message),
//     then acknowledged. If that send fails, it becomes a batch item failure
//     instead: a record is never lost.
//   - any other error is transient (throttling, 5xx, timeouts): the record
//     becomes a batch item failure and SQS delivers it again after its
//     visibility timeout, optionally lengthened (RetryAfter, WithBackoff).
//
// A panic in the handler fails that record only. Process never returns an
// error together with failures (Lambda would drop the failures and retry the
// whole batch); its error is always nil.
//
// Records from FIFO queues are processed in order within their message
// group; after a record of a group fails, the later records of that group
// are not processed and are reported as failures, so the group's order holds.
// Records of different groups, and all records of standard queues, run
// concurrently up to WithConcurrency.
//
// # Retry budget
//
// A transiently failed record stays invisible for the backoff policy's delay
// (WithBackoff, ExponentialBackoff: base × 2^(receive−1), capped at its limit
// and at SQS's 12-hour maximum visibility; no overflow at any receive count).
// SQS counts every receive in ApproximateReceiveCount and moves the record to
// the DLQ on the receive after the redrive policy's maxReceiveCount, so the
// time a record survives a failing dependency is RetryBudget(policy,
// maxReceiveCount) plus processing time. The deployed values make that about
// an hour per queue (terraform/stack/README.md, "Retry budget"). A visibility
// change (policy or RetryAfter) is capped at 11 h 45 min: SQS refuses one
// reaching beyond 12 hours from the receive, and it is made up to 15 minutes
// (Lambda's longest invocation) after it.
//
// A record skipped because the invocation's deadline is near was never
// attempted. With WithBackoff its visibility is set to 0, so it comes back at
// once instead of after the queue's visibility timeout. SQS has no way to
// take a receive back: the skipped delivery still spent one receive of
// maxReceiveCount. The deadline margin (WithDeadlineMargin) and the batch
// size keep skips rare.
//
// # Dead letters
//
// The copy sent to the DLQ (the body, unchanged, and the failure
// attributes of pkg/message plus as many of the record's own attributes as
// fit in SQS's 10) is trimmed to the DLQ's maximum message size
// (WithDeadLetterMaxBytes, default 256 KiB), counted as SQS does: body plus,
// per attribute, name, data type and value (the AWSTraceHeader system
// attribute does not count). What goes first: the reason (cut on a character
// boundary), then the copied attributes (least important first), then the
// failure metadata except offload.failure-class and
// offload.original-message-id. A body so close to the limit that even those
// two do not fit is sent with no attributes; the reason is then only in the
// record's log line (field trimmed_dead_letter says what was cut).
//
// # Versions
//
// Accept declares the message types and versions (offload.type,
// offload.version; pkg/producer sets them) a consumer understands. Anything
// else fails permanently with ClassUnsupportedVersion, the declared type and
// version in the reason, before the handler runs. A record without the
// attributes (a producer that does not set them, such as the article's .NET
// producer or the aws CLI) is taken as the current version.
//
// # Errors
//
// A handler returns its domain errors as they are. An error that says its
// own failure class and permanence (Classified: FailureClass, Permanent) —
// message.DecodeError and message.ValidationError from every decoder, pkg/sms's
// sender and provider errors — is read by the processor: the first error in
// the chain with a Permanent method decides, and a permanent one is
// dead-lettered with its class and its own message as the reason.
// Permanent(class, reason, cause) is for a failure the handler decides on
// itself. The classes are pkg/message's Class constants.
//
// # Tracing
//
// Each record is traced (pkg/tracing, WithTracer). In a traced invocation
// (the Lambda trace aws-lambda-go hands in the context), the batch has a
// "Process" span, child of the invocation, linked to every record's
// producer context and annotated with batch_size. A record carrying its
// producer's AWSTraceHeader becomes a segment of the producer's trace: named
// after the function (AWS_LAMBDA_FUNCTION_NAME; "sqs-consumer" outside
// Lambda), origin AWS::Lambda::Function, child of the producer's SQS send,
// linked to the invocation's span. A record without one is traced beneath
// the invocation's span, in the invocation's trace. The
// span is annotated with message_id, queue (the queue's name),
// receive_count, outcome and error_class; a permanent failure marks it as a
// client error, a transient failure or panic as a fault, with the error
// (masked as in logs) as its cause. The handler's context carries the span,
// so the calls it makes through instrumented clients (tracing.InstrumentAWS,
// tracing.Transport) appear beneath it, as do dead-lettering and visibility
// changes. A record whose header says Sampled=0 is not recorded.
package batch
