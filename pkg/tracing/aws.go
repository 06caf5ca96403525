package tracing

import (
	"context"
	"errors"
	"net/url"
	"path"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	//lint:ignore SA1019 contrib marks otelaws unsupported at v0.72.0 but it is the AWS SDK v2 instrumentation issue 18 asks for; replace it when contrib names a successor
	"go.opentelemetry.io/contrib/instrumentation/github.com/aws/aws-sdk-go-v2/otelaws"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// Annotation keys the AWS instrumentation sets (indexed, so traces can be
// filtered on them: annotation.queue = "…").
const (
	AnnotationQueue = "queue"
	AnnotationTable = "table"
)

// InstrumentAWS traces every call of the AWS SDK clients built from cfg
// afterwards with contrib's otelaws on tp (nil: Global): one span per
// operation (all its retries), which the X-Ray exporter writes as a
// subsegment named after the service, namespace "aws", with the operation,
// region, request id, retry count, HTTP status, error/throttle/fault flags
// and the resource the call names — the queue URL (annotation "queue": its
// name), the table (annotation "table") or the topic ARN — which X-Ray's
// service map needs. The trace header naming the span goes downstream in
// X-Amzn-Trace-Id (X-Ray propagator). An SQS send pkg/producer started
// (StartSend) is that call's span.
//
// A call whose context has no trace is not traced and gets no header (the
// missing context is reported once per provider). Inputs are read, never
// written.
func InstrumentAWS(cfg *aws.Config, tp trace.TracerProvider) {
	if tp == nil {
		tp = Global()
	}
	p := FromProvider(tp)
	otelaws.AppendMiddlewares(&cfg.APIOptions,
		otelaws.WithTracerProvider(p),
		otelaws.WithTextMapPropagator(p.prop),
		otelaws.WithAttributeBuilder(otelaws.DefaultAttributeBuilder, resourceAttributes))
	cfg.APIOptions = append(cfg.APIOptions, addOutcomeMiddleware)
}

// resourceAttributes names the queue, table or topic of the calls offload
// makes, with the keys the X-Ray exporter maps to the aws block.
func resourceAttributes(_ context.Context, in middleware.InitializeInput, _ middleware.InitializeOutput) []attribute.KeyValue {
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
	switch v := in.Parameters.(type) {
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
	case *sns.PublishInput:
		// Never the phone number of an SMS publish.
		if v.TopicArn != nil && *v.TopicArn != "" {
			return append(a, AttrTopicARN.String(*v.TopicArn))
		}
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

// addOutcomeMiddleware runs inside otelaws's span and records what otelaws
// does not: retries, the request id of a failed call and X-Ray's
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
