// Package tracing is offload's tracing: spans behind a small interface
// (Tracer, Span), an AWS X-Ray backend, and the hooks the rest of offload
// uses — the trace header producers put in SQS's AWSTraceHeader
// (TraceHeader), AWS SDK v2 instrumentation (InstrumentAWS), HTTP server
// middleware (Middleware) and client instrumentation (Transport).
//
// The X-Ray backend (XRay) writes X-Ray segment documents itself and sends
// them to the X-Ray daemon over UDP. It is built on the X-Ray SDK's light
// packages only — header (trace header), daemoncfg (daemon address),
// strategy/sampling (local and centralized sampling rules) and
// strategy/ctxmissing (missing context) — and never imports the SDK's xray
// package, which links gRPC, fasthttp and brotli and would push a Lambda
// zip past offload's 4 MiB budget. Services that already use the full SDK
// import pkg/tracing/xraysdk so that TraceHeader sees the SDK's segments.
//
// Spans in a Lambda function hang off the invocation's trace (the
// "x-amzn-trace-id" value aws-lambda-go puts in the context); a consumer
// continues a producer's trace from a record's AWSTraceHeader with
// RemoteParent. Nothing here panics: a span started with no trace in its
// context records nothing and the missing context is reported once.
//
// An OpenTelemetry (ADOT) backend replaces the X-Ray one by implementing
// Tracer and Span and installing it with SetDefault; the README's "Tracing"
// section describes the migration.
package tracing
