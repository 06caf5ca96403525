// Package producer publishes messages to an SQS queue the way offload's
// consumers expect them: every message carries an idempotency key (stable
// across the producer's own retries), its type and schema version as message
// attributes, and the caller's X-Ray trace header as the AWSTraceHeader system
// attribute.
//
// Publisher sends synchronously: Publish for one message, PublishBatch for
// many (chunked to SQS's 10 entries and 1 MiB per request, with a result per
// message). Only retryable failures are retried, with exponential backoff and
// jitter, a bounded number of times. Messages over the size limit are rejected
// before any call.
//
// AsyncPublisher buffers messages for request paths that must not wait on
// SQS: a bounded buffer, flushed by size, by interval and on Close; when full
// it blocks (back-pressure) or returns ErrBufferFull. A message that cannot be
// published is never dropped silently: it is reported to the failure handler
// and counted in Close's error.
//
// In a Lambda function, call Flush before the handler returns. Lambda freezes
// the execution environment once the handler has answered: the background
// flush does not run until the next invoke thaws it, or never (the
// environment may be discarded while frozen), so messages buffered at return
// are sent late or lost. The local runtime freezes idle environments too
// (docs/local-runtime.md), so a missing Flush shows in local tests.
//
// The SQS client is injected through SQSAPI (a *sqs.Client satisfies it);
// build it once, at init.
package producer
