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
package batch
