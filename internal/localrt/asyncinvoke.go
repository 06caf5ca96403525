package localrt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// Lambda's asynchronous invocation defaults
// (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html):
// after a function error it retries twice, one minute after the first
// attempt and two minutes after the second, and keeps an event for at most
// six hours.
var asyncRetryDelays = [...]time.Duration{time.Minute, 2 * time.Minute}

const (
	defaultAsyncRetries = 2
	defaultMaxEventAge  = 6 * time.Hour
)

// Conditions of an asynchronous invocation record sent to an on-failure
// destination.
const (
	ConditionRetriesExhausted = "RetriesExhausted"
	ConditionEventAgeExceeded = "EventAgeExceeded"
)

// EventInvokeConfigAPI is the Lambda operation that reads a function's
// asynchronous invocation settings. A Clients.Lambda that implements it (the
// SDK client does) has them honoured; otherwise Lambda's defaults apply.
type EventInvokeConfigAPI interface {
	GetFunctionEventInvokeConfig(ctx context.Context, in *lambda.GetFunctionEventInvokeConfigInput, optFns ...func(*lambda.Options)) (*lambda.GetFunctionEventInvokeConfigOutput, error)
}

// asyncSettings is a function's EventInvokeConfig with Lambda's defaults.
type asyncSettings struct {
	retries   int
	maxAge    time.Duration
	onFailure string
}

func (r *Runtime) asyncSettings(ctx context.Context, function string) asyncSettings {
	s := asyncSettings{retries: defaultAsyncRetries, maxAge: defaultMaxEventAge}
	api, ok := r.clients.Lambda.(EventInvokeConfigAPI)
	if !ok {
		return s
	}
	out, err := api.GetFunctionEventInvokeConfig(ctx, &lambda.GetFunctionEventInvokeConfigInput{FunctionName: aws.String(functionNameFromARN(function))})
	var none *lambdatypes.ResourceNotFoundException
	switch {
	case errors.As(err, &none):
		return s
	case err != nil:
		r.cfg.Logger.Warn("event invoke config not readable: Lambda's defaults apply", "function", function, "error", err)
		return s
	}
	if out.MaximumRetryAttempts != nil {
		s.retries = int(*out.MaximumRetryAttempts)
	}
	if out.MaximumEventAgeInSeconds != nil && *out.MaximumEventAgeInSeconds > 0 {
		s.maxAge = time.Duration(*out.MaximumEventAgeInSeconds) * time.Second
	}
	if out.DestinationConfig != nil && out.DestinationConfig.OnFailure != nil {
		s.onFailure = aws.ToString(out.DestinationConfig.OnFailure.Destination)
	}
	return s
}

// scaled is d on the runtime's clock (Config.ClockScale).
func (r *Runtime) scaled(d time.Duration) time.Duration {
	return time.Duration(float64(d) * r.cfg.ClockScale)
}

// invokeAsync invokes like an asynchronous (Event) invoke: on a function
// error it retries on Lambda's schedule, up to the function's
// MaximumRetryAttempts and while the event is younger than its
// MaximumEventAgeInSeconds (both from its EventInvokeConfig, both on the
// runtime's clock), and sends the invocation record of a discarded event to
// the on-failure destination. It returns an error when the event was
// discarded.
func (r *Runtime) invokeAsync(ctx context.Context, function string, payload []byte, queued time.Time) error {
	s := r.asyncSettings(ctx, function)
	var last Result
	attempts := 0
	condition := ConditionRetriesExhausted
	for {
		if time.Since(queued) > r.scaled(s.maxAge) {
			condition = ConditionEventAgeExceeded
			break
		}
		res, err := r.Invoke(ctx, function, payload, "")
		if err != nil {
			return err
		}
		attempts++
		if res.Err == nil {
			return nil
		}
		last = res
		if attempts > s.retries {
			break
		}
		select {
		case <-time.After(r.scaled(asyncRetryDelays[min(attempts, len(asyncRetryDelays))-1])):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	discarded := fmt.Errorf("async invoke of %s discarded (%s after %d attempts)", function, condition, attempts)
	if last.Err != nil {
		discarded = fmt.Errorf("%w: last error %w", discarded, last.Err)
	}
	if s.onFailure == "" {
		return discarded
	}
	if err := r.sendInvocationRecord(context.WithoutCancel(ctx), s.onFailure, function, condition, attempts, payload, last); err != nil {
		return errors.Join(discarded, err)
	}
	r.cfg.Logger.Info("async invoke discarded: record sent to the on-failure destination", "function", function, "condition", condition, "attempts", attempts, "destination", s.onFailure)
	return discarded
}

// InvocationRecord is what Lambda sends an asynchronous invocation's
// destination
// (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html).
type InvocationRecord struct {
	Version         string                   `json:"version"`
	Timestamp       string                   `json:"timestamp"`
	RequestContext  InvocationRequestContext `json:"requestContext"`
	RequestPayload  json.RawMessage          `json:"requestPayload"`
	ResponseContext *InvocationResponse      `json:"responseContext,omitempty"`
	ResponsePayload json.RawMessage          `json:"responsePayload,omitempty"`
}

// InvocationRequestContext is the record's requestContext.
type InvocationRequestContext struct {
	RequestID              string `json:"requestId"`
	FunctionArn            string `json:"functionArn"`
	Condition              string `json:"condition"`
	ApproximateInvokeCount int    `json:"approximateInvokeCount"`
}

// InvocationResponse is the record's responseContext.
type InvocationResponse struct {
	StatusCode      int    `json:"statusCode"`
	ExecutedVersion string `json:"executedVersion"`
	FunctionError   string `json:"functionError,omitempty"`
}

func (r *Runtime) sendInvocationRecord(ctx context.Context, destination, function, condition string, attempts int, payload []byte, last Result) error {
	if !strings.HasPrefix(destination, "arn:aws:sqs:") {
		r.cfg.Logger.Info("on-failure destination not supported locally (only SQS)", "function", function, "destination", destination)
		return nil
	}
	arn := function
	if fn, ok := r.Deployment().Function(function); ok {
		arn = fn.ARN
	}
	rec := InvocationRecord{
		Version:   "1.0",
		Timestamp: time.Now().UTC().Format("2006-01-02T15:04:05.000Z"),
		RequestContext: InvocationRequestContext{
			RequestID: last.RequestID, FunctionArn: arn + ":$LATEST", Condition: condition, ApproximateInvokeCount: attempts,
		},
		RequestPayload: payload,
	}
	if last.Err != nil {
		rec.ResponseContext = &InvocationResponse{StatusCode: 200, ExecutedVersion: "$LATEST", FunctionError: "Unhandled"}
		rec.ResponsePayload = last.Err.Payload
		if !json.Valid(rec.ResponsePayload) {
			rec.ResponsePayload, _ = json.Marshal(map[string]string{"errorMessage": last.Err.Message, "errorType": last.Err.Type})
		}
	}
	body, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encode invocation record of %s: %w", function, err)
	}
	url, err := r.clients.SQS.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(queueNameFromARN(destination))})
	if err != nil {
		return fmt.Errorf("queue URL of on-failure destination %s of %s: %w", destination, function, err)
	}
	if _, err := r.clients.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: url.QueueUrl, MessageBody: aws.String(string(body))}); err != nil {
		return fmt.Errorf("send invocation record of %s to %s: %w", function, destination, err)
	}
	return nil
}
