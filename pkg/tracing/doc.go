// Package tracing is offload's small window on AWS X-Ray: it reads the trace
// header of the current segment out of a context so that producers can pass it
// on (SQS's AWSTraceHeader system attribute) and loggers can record the trace
// id. X-Ray types never leave this package.
//
// Functions here never panic and never log when the context carries no
// segment: they return the empty string.
package tracing
