package tracing

import (
	"context"
	"errors"
	"net/url"
	"path"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Annotation keys the AWS instrumentation sets (indexed, so traces can be
// filtered on them: annotation.queue = "…").
const (
	AnnotationQueue = "queue"
	AnnotationTable = "table"
)

// InstrumentAWS traces every call of the AWS SDK clients built from cfg
// afterwards on tp (nil: Global) with a small smithy middleware of
// offload's (contrib's otelaws is marked unsupported upstream and links the
// S3 and SNS clients into every binary): one client span per operation (all
// its retries), which the X-Ray exporter writes as a subsegment named after
// the service, namespace "aws", with the operation (rpc.method
// "Service/Operation"), region, request id, retry count, HTTP status,
// error/throttle/fault flags and the resource the call names — the queue URL
// (annotation "queue": its name) or the table (annotation "table") — which
// X-Ray's service map needs; an SNS publish names its topic with
// AWSAttributes(AttrTopicARN…) (pkg/dlq does). The trace header naming the
// span goes downstream in X-Amzn-Trace-Id (X-Ray propagator). An SQS send
// pkg/producer started (StartSend) is that call's span.
//
// A call whose context has no trace is not traced and gets no header (the
// missing context is reported once per provider). Inputs are read, never
// written.
func InstrumentAWS(cfg *aws.Config, tp trace.TracerProvider) {
	if tp == nil {
		tp = Global()
	}
	p := FromProvider(tp)
	m := awsMiddleware{tracer: p.Tracer(awsScope), prop: p.prop}
	cfg.APIOptions = append(cfg.APIOptions, m.addStart, m.addSpan, m.addInject, addOutcomeMiddleware)
}

// AWSAttributes returns an API option (append it to a client's or a call's
// APIOptions) that sets attrs on the span of each call InstrumentAWS traces,
// for resources it does not read from the input itself, e.g. an SNS
// publish's AttrTopicARN.
func AWSAttributes(attrs ...attribute.KeyValue) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("OffloadTracingAttributes", func(
			ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (
			middleware.InitializeOutput, middleware.Metadata, error,
		) {
			if span := trace.SpanFromContext(ctx); span.IsRecording() {
				span.SetAttributes(attrs...)
			}
			return next.HandleInitialize(ctx, in)
		}), middleware.After)
	}
}

// awsScope is the instrumentation scope of the AWS SDK spans.
const awsScope = "github.com/offload/offload/pkg/tracing/aws"

// awsMiddleware is InstrumentAWS's span: started once per operation in the
// initialize step (so it covers every retry), its header injected into each
// attempt's request in the finalize step.
type awsMiddleware struct {
	tracer trace.Tracer
	prop   propagation.TextMapPropagator
}

type awsStartKey struct{}

// addStart notes when the operation began, before the SDK's own initialize
// middlewares (input validation, idempotency tokens), as the span's start.
func (awsMiddleware) addStart(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("OffloadTracingStart", func(
		ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (
		middleware.InitializeOutput, middleware.Metadata, error,
	) {
		return next.HandleInitialize(context.WithValue(ctx, awsStartKey{}, time.Now()), in)
	}), middleware.Before)
}

func (m awsMiddleware) addSpan(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("OffloadTracingSpan", func(
		ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (
		middleware.InitializeOutput, middleware.Metadata, error,
	) {
		service := awsmiddleware.GetServiceID(ctx)
		operation := awsmiddleware.GetOperationName(ctx)
		method, name := service+"/"+operation, service+"."+operation
		if operation == "" {
			method, name = service, service
		}
		attrs := append(resourceAttributes(in.Parameters),
			keyRPCMethod.String(method), keyRegion.String(awsmiddleware.GetRegion(ctx)))
		opts := []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...)}
		if t, ok := ctx.Value(awsStartKey{}).(time.Time); ok {
			opts = append(opts, trace.WithTimestamp(t))
		}
		ctx, span := m.tracer.Start(ctx, name, opts...)
		defer span.End()
		out, md, err := next.HandleInitialize(ctx, in)
		if span.IsRecording() {
			if raw, ok := awsmiddleware.GetRawResponse(md).(*smithyhttp.Response); ok && raw != nil {
				span.SetAttributes(keyStatus.Int(raw.StatusCode))
			}
			if id, ok := awsmiddleware.GetRequestIDMetadata(md); ok && id != "" {
				span.SetAttributes(keyRequestID.String(id))
			}
		}
		return out, md, err
	}), middleware.After)
}

// addInject writes the span's trace header on every attempt's request.
func (m awsMiddleware) addInject(stack *middleware.Stack) error {
	return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("OffloadTracingInject", func(
		ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (
		middleware.FinalizeOutput, middleware.Metadata, error,
	) {
		if req, ok := in.Request.(*smithyhttp.Request); ok {
			m.prop.Inject(ctx, propagation.HeaderCarrier(req.Header))
		}
		return next.HandleFinalize(ctx, in)
	}), middleware.After)
}

// resourceAttributes names the queue or table of the calls offload makes, with the keys the X-Ray exporter maps to the aws block.
func resourceAttributes(params any) []attribute.KeyValue {
	a := []attribute.KeyValue{keyRPCSystem.String(awsAPI)}
	queue := func(u *string) []attribute.KeyValue {
		if u == nil || *u == "" {
			return a
		}
		return append(a, AttrQueueURL.String(*u), attributeQueueAnnotation(*u))
	}
	table := func(t *string) []attribute.KeyValue {
		if t == nil || *t == "" {
			return a
		}
		return append(a, AttrTableName.StringSlice([]string{*t}), attribute.String(AnnotationTable, *t))
	}
	switch v := params.(type) {
	case *sqs.SendMessageInput:
		return queue(v.QueueUrl)
	case *sqs.SendMessageBatchInput:
		return queue(v.QueueUrl)
	case *sqs.ReceiveMessageInput:
		return queue(v.QueueUrl)
	case *sqs.DeleteMessageInput:
		return queue(v.QueueUrl)
	case *sqs.DeleteMessageBatchInput:
		return queue(v.QueueUrl)
	case *sqs.ChangeMessageVisibilityInput:
		return queue(v.QueueUrl)
	case *sqs.ChangeMessageVisibilityBatchInput:
		return queue(v.QueueUrl)
	case *sqs.GetQueueAttributesInput:
		return queue(v.QueueUrl)
	case *sqs.PurgeQueueInput:
		return queue(v.QueueUrl)
	case *sqs.GetQueueUrlInput:
		// The URL is the answer; the name is what the call names.
		if n := aws.ToString(v.QueueName); n != "" {
			return append(a, attribute.String(AnnotationQueue, n))
		}
		return a
	case *dynamodb.PutItemInput:
		return table(v.TableName)
	case *dynamodb.GetItemInput:
		return table(v.TableName)
	case *dynamodb.UpdateItemInput:
		return table(v.TableName)
	case *dynamodb.DeleteItemInput:
		return table(v.TableName)
	case *dynamodb.QueryInput:
		return table(v.TableName)
	case *dynamodb.ScanInput:
		return table(v.TableName)
	case *dynamodb.DescribeTableInput:
		return table(v.TableName)
	}
	return a
}

func attributeQueueAnnotation(queueURL string) attribute.KeyValue {
	return attribute.String(AnnotationQueue, queueNameOf(queueURL))
}

func queueNameOf(u string) string {
	if p, err := url.Parse(u); err == nil && p.Path != "" {
		return path.Base(p.Path)
	}
	return path.Base(u)
}

// addOutcomeMiddleware runs inside the call's span and records retries, the
// response size, the request id and status of a failed call and X-Ray's
// throttle/client-error/fault classification.
func addOutcomeMiddleware(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("OffloadTracingOutcome", func(
		ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (
		middleware.InitializeOutput, middleware.Metadata, error,
	) {
		out, md, err := next.HandleInitialize(ctx, in)
		span := trace.SpanFromContext(ctx)
		if !span.IsRecording() {
			return out, md, err
		}
		var retries int
		if ar, ok := retry.GetAttemptResults(md); ok && len(ar.Results) > 1 {
			retries = len(ar.Results) - 1
		}
		span.SetAttributes(AttrRetries.Int(retries))
		if raw, ok := awsmiddleware.GetRawResponse(md).(*smithyhttp.Response); ok && raw != nil && raw.ContentLength > 0 {
			span.SetAttributes(keyBodySize.Int64(raw.ContentLength))
		}
		if err != nil {
			status := 0
			var re *awshttp.ResponseError
			if errors.As(err, &re) {
				status = re.HTTPStatusCode()
				if id := re.ServiceRequestID(); id != "" {
					span.SetAttributes(keyRequestID.String(id))
				}
				span.SetAttributes(keyStatus.Int(status))
			}
			setError(span, err, classifyAWSError(err, status))
		}
		return out, md, err
	}), middleware.After)
}

// classifyAWSError maps an SDK error to X-Ray's flags: throttling codes and
// 429 are throttles, client faults and other 4xx are client errors, the rest
// (5xx, timeouts, connection errors) faults.
func classifyAWSError(err error, status int) ErrorKind {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		if _, ok := retry.DefaultThrottleErrorCodes[ae.ErrorCode()]; ok {
			return Throttle
		}
	}
	switch {
	case status == 429:
		return Throttle
	case status >= 400 && status < 500:
		return ClientError
	case status == 0 && ae != nil && ae.ErrorFault() == smithy.FaultClient:
		return ClientError
	}
	return Fault
}
