// Package tracing is offload's tracing on the OpenTelemetry Go SDK with AWS
// X-Ray as the backend.
//
// A Provider (NewProvider, ProviderFromEnv) is an OpenTelemetry
// TracerProvider built once per container with X-Ray's ID generator, a
// parent-based sampler over X-Ray's sampling rules (NewSampler) and the
// X-Ray exporter (Exporter: segment documents over UDP to the daemon at
// AWS_XRAY_DAEMON_ADDRESS). It is passed explicitly to what traces —
// InstrumentAWS (a small smithy middleware; contrib otelaws is unsupported
// upstream and links S3 and SNS into every binary), Transport,
// pkg/producer (StartSend) and pkg/batch (NewTracer); the HTTP server
// middleware (contrib otelhttp) is pkg/tracing/tracinghttp — and can also be
// installed as OpenTelemetry's global provider (SetGlobal); nothing in this
// package keeps a tracer in a package variable. FromProvider gives a
// service's own provider the same behaviour.
//
// Trace context travels as X-Ray's trace header (X-Amzn-Trace-Id, SQS's
// AWSTraceHeader) with W3C traceparent beside it (Propagator). Spans in a
// Lambda function hang off the invocation's trace — the Lambda-Runtime-Trace-Id
// header aws-lambda-go puts in the invocation's context (LambdaContextKey),
// never _X_AMZN_TRACE_ID — and a consumer continues a producer's trace from a
// record's AWSTraceHeader with RemoteParent. Nothing here panics: a span
// started with no trace in its context records nothing and the missing
// context is reported once per provider.
//
// Tracer and Span are the small span API offload's packages use (NewTracer
// builds one over any TracerProvider). Services that still trace with the
// full X-Ray SDK import pkg/tracing/xraysdk (legacy); services outside
// Lambda that export with OTLP/HTTP use pkg/tracing/otlp, which functions
// must not link.
package tracing
