// Package batchtest holds the test doubles of code run by pkg/batch: an SQS
// client that records dead letters and visibility changes (batch.DeadLetterAPI
// and batch.VisibilityAPI) and a metrics counter. Every method is safe for
// concurrent use. Log capture: pkg/logging/loggingtest.
package batchtest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/offload/offload/pkg/message"
	"github.com/offload/offload/pkg/tracing"
)

// SQS records what the batch processor sends: dead letters (SendMessage) and
// visibility changes. GetQueueUrl answers https://sqs.local/<account>/<name>.
// The zero value is ready.
type SQS struct {
	mu       sync.Mutex
	sendErr  error
	sent     []*sqs.SendMessageInput
	traces   []string
	vis      []*sqs.ChangeMessageVisibilityInput
	urlCalls int
}

// FailSends makes every later SendMessage fail with err (nil: succeed again).
func (f *SQS) FailSends(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sendErr = err
}

// SendMessage records in (unless FailSends is in effect) and the trace header
// of ctx (tracing.TraceHeader), in either case.
func (f *SQS) SendMessage(ctx context.Context, in *sqs.SendMessageInput, _ ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.traces = append(f.traces, tracing.TraceHeader(ctx))
	if f.sendErr != nil {
		return nil, f.sendErr
	}
	f.sent = append(f.sent, in)
	return &sqs.SendMessageOutput{MessageId: aws.String(fmt.Sprintf("dlq-%d", len(f.sent)))}, nil
}

// GetQueueUrl counts the call and builds the URL from the name and owner.
func (f *SQS) GetQueueUrl(_ context.Context, in *sqs.GetQueueUrlInput, _ ...func(*sqs.Options)) (*sqs.GetQueueUrlOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.urlCalls++
	return &sqs.GetQueueUrlOutput{QueueUrl: aws.String("https://sqs.local/" + aws.ToString(in.QueueOwnerAWSAccountId) + "/" + aws.ToString(in.QueueName))}, nil
}

// ChangeMessageVisibility records in.
func (f *SQS) ChangeMessageVisibility(_ context.Context, in *sqs.ChangeMessageVisibilityInput, _ ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.vis = append(f.vis, in)
	return &sqs.ChangeMessageVisibilityOutput{}, nil
}

// Reset forgets every message, trace and visibility change recorded.
func (f *SQS) Reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent, f.traces, f.vis, f.urlCalls = nil, nil, nil, 0
}

// DeadLetters returns the messages sent, in order.
func (f *SQS) DeadLetters() []*sqs.SendMessageInput {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.sent)
}

// DeadLettersByID returns the messages sent by their
// offload.original-message-id attribute (the last one of an id sent twice).
func (f *SQS) DeadLettersByID() map[string]*sqs.SendMessageInput {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]*sqs.SendMessageInput, len(f.sent))
	for _, in := range f.sent {
		if a, ok := in.MessageAttributes[message.AttrOriginalMessageID]; ok {
			out[aws.ToString(a.StringValue)] = in
		}
	}
	return out
}

// Traces returns the trace header of every SendMessage call's context, in
// order ("" where there was none).
func (f *SQS) Traces() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.traces)
}

// VisibilityChanges returns the visibility changes asked for, in order.
func (f *SQS) VisibilityChanges() []*sqs.ChangeMessageVisibilityInput {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.vis)
}

// Visibility returns the last visibility timeout set for receiptHandle (0
// when none was).
func (f *SQS) Visibility(receiptHandle string) int32 {
	f.mu.Lock()
	defer f.mu.Unlock()
	var v int32
	for _, in := range f.vis {
		if aws.ToString(in.ReceiptHandle) == receiptHandle {
			v = in.VisibilityTimeout
		}
	}
	return v
}

// QueueURLCalls is how many times GetQueueUrl was called.
func (f *SQS) QueueURLCalls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.urlCalls
}

// DeadLetter is what a dead letter says about the message it carries: its
// failure class and reason (the offload.failure-class and
// offload.failure-reason attributes).
type DeadLetter struct {
	Class  string
	Reason string
}

// RequireDeadLetters fails t unless f was sent exactly one dead letter for
// each original message id in want, carrying want's class and reason, and
// no other.
func RequireDeadLetters(t testing.TB, f *SQS, want map[string]DeadLetter) {
	t.Helper()
	if n := len(f.DeadLetters()); n != len(want) {
		t.Fatalf("%d dead letters, want %d", n, len(want))
	}
	got := f.DeadLettersByID()
	for id, w := range want {
		d, ok := got[id]
		if !ok {
			t.Fatalf("no dead letter for %s", id)
		}
		g := DeadLetter{Class: aws.ToString(d.MessageAttributes[message.AttrFailureClass].StringValue), Reason: aws.ToString(d.MessageAttributes[message.AttrFailureReason].StringValue)}
		if g != w {
			t.Fatalf("dead letter for %s: %+v, want %+v", id, g, w)
		}
	}
}

// Counter is a metrics sink (Count(name, n)) that remembers the totals. The
// zero value is ready.
type Counter struct {
	mu sync.Mutex
	n  map[string]int
}

// Count adds n to name's total.
func (c *Counter) Count(name string, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[name] += n
}

// Get returns name's total (0 when never counted).
func (c *Counter) Get(name string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[name]
}

// Totals returns a copy of every total.
func (c *Counter) Totals() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.n)
}
