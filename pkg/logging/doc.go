// Package logging builds the JSON logger every offload function and library
// uses: logrus with standard field names, the level from LOG_LEVEL, and a
// formatter that masks phone numbers and secrets in every entry, message text
// included.
//
// Field names are fixed (see the Field constants) so that log queries work
// across functions: request_id, function, message_id, receive_count,
// trace_id, outcome, duration_ms, queue, error_class. request_id is only
// Lambda's request id and message_id only the SQS message id; domain ids
// have their own (audit_id, sms_request_id). The table is in
// docs/development.md, "Log fields".
//
// NewSlogHandler gives a log/slog logger the same layout and masking, for
// binaries and services that log with slog.
//
// A record logger carries the invocation's fields (FromLambda) plus the SQS
// record's (ForRecord); WithContext and FromContext pass it to handlers.
package logging
