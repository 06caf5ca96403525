// Package logging builds the JSON logger every offload function and library
// uses: logrus with standard field names, the level from LOG_LEVEL, and a
// formatter that masks phone numbers and secrets in every entry, message text
// included.
//
// Field names are fixed (see the Field constants) so that log queries work
// across functions: request_id, function, message_id, receive_count,
// trace_id, outcome, duration_ms, queue, error_class.
//
// A record logger carries the invocation's fields (FromLambda) plus the SQS
// record's (ForRecord); WithContext and FromContext pass it to handlers.
package logging
