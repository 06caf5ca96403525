package tracing

import (
	"context"
	"errors"
	"net/url"
	"path"
	"reflect"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// TraceHeaderName is the HTTP header that carries the X-Ray trace header.
const TraceHeaderName = "X-Amzn-Trace-Id"

// Annotation keys the AWS instrumentation sets (indexed, so traces can be
// filtered on them: annotation.queue = "…").
const (
	AnnotationQueue = "queue"
	AnnotationTable = "table"
)

// InstrumentAWS traces every call of the AWS SDK clients built from cfg
// afterwards: one subsegment per operation (all its retries), named after the
// service, with namespace "aws", the operation, region, request id, retry
// count, HTTP status and error/throttle/fault flags, and the resource the call
// names — the queue URL (annotation "queue": its name), the table (annotation
// "table") or the topic ARN. The trace header naming the subsegment goes
// downstream in X-Amzn-Trace-Id, and SQS messages of the same trace
// (AWSTraceHeader) get the send as their parent.
//
// A call whose context has no trace is not traced and gets no header (the
// missing context is reported once). Spans come from Default at call time.
func InstrumentAWS(cfg *aws.Config) {
	cfg.APIOptions = append(cfg.APIOptions, addAWSMiddleware)
}

func addAWSMiddleware(stack *middleware.Stack) error {
	if err := stack.Initialize.Add(awsSpanMiddleware{}, middleware.After); err != nil {
		return err
	}
	// Before the SDK's recursion detection, which would otherwise put the
	// Lambda environment's header there.
	return stack.Build.Add(awsHeaderMiddleware{}, middleware.Before)
}

type awsSpanMiddleware struct{}

func (awsSpanMiddleware) ID() string { return "OffloadTracingSpan" }

func (awsSpanMiddleware) HandleInitialize(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (
	middleware.InitializeOutput, middleware.Metadata, error,
) {
	service := awsmiddleware.GetServiceID(ctx)
	ctx, span := Default().Start(ctx, service, WithKind(KindClient))
	sc := span.Context()
	if !sc.Valid() {
		return next.HandleInitialize(ctx, in)
	}
	call := AWSCall{Operation: awsmiddleware.GetOperationName(ctx), Region: awsmiddleware.GetRegion(ctx)}
	res := inspectInput(in.Parameters, sc.TraceID, span.TraceHeader())
	call.QueueURL, call.TableName, call.TopicARN = res.queueURL, res.tableName, res.topicARN
	if q := res.queueName(); q != "" {
		span.Annotate(AnnotationQueue, q)
	}
	if res.tableName != "" {
		span.Annotate(AnnotationTable, res.tableName)
	}

	out, md, err := next.HandleInitialize(ctx, in)

	var status int
	var length int64
	if raw, ok := awsmiddleware.GetRawResponse(md).(*smithyhttp.Response); ok && raw != nil {
		status, length = raw.StatusCode, raw.ContentLength
	}
	if id, ok := awsmiddleware.GetRequestIDMetadata(md); ok {
		call.RequestID = id
	}
	if ar, ok := retry.GetAttemptResults(md); ok && len(ar.Results) > 1 {
		call.Retries = len(ar.Results) - 1
	}
	if err != nil {
		var re *awshttp.ResponseError
		if errors.As(err, &re) {
			if call.RequestID == "" {
				call.RequestID = re.ServiceRequestID()
			}
			if status == 0 {
				status = re.HTTPStatusCode()
			}
		}
	}
	span.SetAWS(call)
	if status != 0 {
		span.SetHTTP(HTTP{Status: status, ContentLength: max(length, 0)})
	}
	if err != nil {
		span.SetError(err, classifyAWSError(err, status))
	}
	span.End()
	return out, md, err
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

type awsHeaderMiddleware struct{}

func (awsHeaderMiddleware) ID() string { return "OffloadTracingHeader" }

func (awsHeaderMiddleware) HandleBuild(ctx context.Context, in middleware.BuildInput, next middleware.BuildHandler) (
	middleware.BuildOutput, middleware.Metadata, error,
) {
	if req, ok := in.Request.(*smithyhttp.Request); ok {
		if s, ok := ctx.Value(spanKey{}).(Span); ok && s != nil {
			if h := s.TraceHeader(); h != "" {
				req.Header.Set(TraceHeaderName, h)
			}
		}
	}
	return next.HandleBuild(ctx, in)
}

// inputResources is what a call's input names.
type inputResources struct {
	queueURL, queueNameField, tableName, topicARN string
}

func (r inputResources) queueName() string {
	if r.queueNameField != "" {
		return r.queueNameField
	}
	if r.queueURL == "" {
		return ""
	}
	if u, err := url.Parse(r.queueURL); err == nil && u.Path != "" {
		return path.Base(u.Path)
	}
	return path.Base(r.queueURL)
}

// inputFields are the indexes of the fields the instrumentation reads in one
// input type; nil when absent.
type inputFields struct {
	queueURL, queueName, tableName, topicARN []int
	// sysAttrs is MessageSystemAttributes (SendMessage); entries is Entries
	// and entrySysAttrs MessageSystemAttributes in its elements
	// (SendMessageBatch).
	sysAttrs, entries, entrySysAttrs []int
}

var inputFieldCache sync.Map // reflect.Type → *inputFields

func fieldsOf(t reflect.Type) *inputFields {
	if f, ok := inputFieldCache.Load(t); ok {
		return f.(*inputFields)
	}
	f := &inputFields{
		queueURL:  stringField(t, "QueueUrl"),
		queueName: stringField(t, "QueueName"),
		tableName: stringField(t, "TableName"),
		topicARN:  stringField(t, "TopicArn"),
		sysAttrs:  traceAttrMapField(t),
	}
	if sf, ok := t.FieldByName("Entries"); ok && sf.Type.Kind() == reflect.Slice && sf.Type.Elem().Kind() == reflect.Struct {
		if idx := traceAttrMapField(sf.Type.Elem()); idx != nil {
			f.entries, f.entrySysAttrs = sf.Index, idx
		}
	}
	inputFieldCache.Store(t, f)
	return f
}

func stringField(t reflect.Type, name string) []int {
	sf, ok := t.FieldByName(name)
	if !ok {
		return nil
	}
	if sf.Type.Kind() == reflect.String || (sf.Type.Kind() == reflect.Pointer && sf.Type.Elem().Kind() == reflect.String) {
		return sf.Index
	}
	return nil
}

// traceAttrMapField finds MessageSystemAttributes: a map from string to a
// struct with a *string StringValue.
func traceAttrMapField(t reflect.Type) []int {
	sf, ok := t.FieldByName("MessageSystemAttributes")
	if !ok || sf.Type.Kind() != reflect.Map || sf.Type.Key().Kind() != reflect.String || sf.Type.Elem().Kind() != reflect.Struct {
		return nil
	}
	v, ok := sf.Type.Elem().FieldByName("StringValue")
	if !ok || v.Type.Kind() != reflect.Pointer || v.Type.Elem().Kind() != reflect.String {
		return nil
	}
	return sf.Index
}

func stringAt(v reflect.Value, idx []int) string {
	if idx == nil {
		return ""
	}
	f := v.FieldByIndex(idx)
	if f.Kind() == reflect.Pointer {
		if f.IsNil() {
			return ""
		}
		f = f.Elem()
	}
	return f.String()
}

// inspectInput reads the resources params names and points the
// AWSTraceHeader of outgoing SQS messages that belong to trace traceID at
// header (the call's subsegment).
func inspectInput(params any, traceID, header string) inputResources {
	v := reflect.ValueOf(params)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return inputResources{}
	}
	v = v.Elem()
	f := fieldsOf(v.Type())
	r := inputResources{
		queueURL:       stringAt(v, f.queueURL),
		queueNameField: stringAt(v, f.queueName),
		tableName:      stringAt(v, f.tableName),
		topicARN:       stringAt(v, f.topicARN),
	}
	if f.sysAttrs != nil {
		repointTraceHeader(v.FieldByIndex(f.sysAttrs), traceID, header)
	}
	if f.entries != nil {
		es := v.FieldByIndex(f.entries)
		for i := range es.Len() {
			repointTraceHeader(es.Index(i).FieldByIndex(f.entrySysAttrs), traceID, header)
		}
	}
	return r
}

const awsTraceHeaderAttr = "AWSTraceHeader"

// repointTraceHeader replaces m["AWSTraceHeader"].StringValue with header
// when the current value belongs to traceID. m is a map from string to a
// struct with a *string StringValue (traceAttrMapField).
func repointTraceHeader(m reflect.Value, traceID, header string) {
	if m.IsNil() {
		return
	}
	key := reflect.ValueOf(awsTraceHeaderAttr).Convert(m.Type().Key())
	cur := m.MapIndex(key)
	if !cur.IsValid() {
		return
	}
	sv := cur.FieldByName("StringValue")
	if sv.IsNil() {
		return
	}
	old := sv.Elem().String()
	if old == header || RootOf(old) != traceID {
		return
	}
	nv := reflect.New(cur.Type()).Elem()
	nv.Set(cur)
	h := strings.Clone(header)
	nv.FieldByName("StringValue").Set(reflect.ValueOf(&h))
	m.SetMapIndex(key, nv)
}
