// Package batch turns a per-record handler into an SQS partial batch response
// (events.SQSEventResponse), so that one bad record never redelivers the
// records that succeeded.
//
// The handler's error says what happens to the record:
//   - nil: the record is acknowledged.
//   - a permanent error (Permanent; e.g. the body cannot be decoded or fails
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
// DecodeJSON turns a body into a typed value and reports every way it can
// fail as a permanent decode or validation error.
//
// # Tracing
//
// Each record is traced (pkg/tracing, WithTracer). A record carrying its
// producer's AWSTraceHeader becomes a segment of the producer's trace: named
// after the function (AWS_LAMBDA_FUNCTION_NAME; "sqs-consumer" outside
// Lambda), origin AWS::Lambda::Function, child of the producer's SQS send. A
// record without one is a subsegment of the Lambda invocation's trace. The
// span is annotated with message_id, queue (the queue's name),
// receive_count, outcome and error_class; a permanent failure marks it as a
// client error, a transient failure or panic as a fault, with the error
// (masked as in logs) as its cause. The handler's context carries the span,
// so the calls it makes through instrumented clients (tracing.InstrumentAWS,
// tracing.Transport) appear beneath it, as do dead-lettering and visibility
// changes. A record whose header says Sampled=0 is not recorded.
package batch
