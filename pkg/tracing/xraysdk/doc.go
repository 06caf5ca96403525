// Package xraysdk connects pkg/tracing to the full AWS X-Ray SDK for Go
// (github.com/aws/aws-xray-sdk-go/v2/xray), for services that already trace
// with it (xray.Handler, xray.BeginSegment, the SDK's AWS instrumentation).
//
// Importing the package registers a parent source with pkg/tracing: from
// then on tracing.TraceHeader (and so pkg/producer's AWSTraceHeader),
// tracing.TraceID (pkg/logging's trace_id) and new tracing spans see the
// SDK's segment in a context when it holds no tracing span.
//
// Lambda functions must not import it: the SDK's xray package links gRPC,
// fasthttp and brotli, about 2.5 MB of zipped bootstrap (docs/development.md,
// "Function size budget").
package xraysdk
