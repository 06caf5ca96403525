package producer_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/offload/offload/pkg/tracing"
	"github.com/offload/offload/pkg/tracing/tracingtest"
)

// traced returns a context carrying a sampled segment of a new trace (from a
// tracer recording into memory) and the segment's identity.
func traced(t testing.TB, name string) (context.Context, tracing.SpanContext) {
	tr, _ := tracingtest.New(t)
	ctx, seg := tr.Start(context.Background(), name, tracing.WithKind(tracing.KindServer))
	return ctx, seg.Context()
}

// fakeSQS records calls and answers them with batchFn/sendFn, or accepts
// everything when they are nil.
type fakeSQS struct {
	mu         sync.Mutex
	sends      []*sqs.SendMessageInput
	batches    [][]types.SendMessageBatchRequestEntry
	batchFn    func(call int, in *sqs.SendMessageBatchInput) (*sqs.SendMessageBatchOutput, error)
	sendFn     func(call int, in *sqs.SendMessageInput) (*sqs.SendMessageOutput, error)
	nextID     int
	entryCount int
}

func (f *fakeSQS) SendMessage(_ context.Context, in *sqs.SendMessageInput, _ ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sends = append(f.sends, in)
	if f.sendFn != nil {
		return f.sendFn(len(f.sends), in)
	}
	f.nextID++
	return &sqs.SendMessageOutput{MessageId: aws.String(fmt.Sprintf("m-%d", f.nextID))}, nil
}

func (f *fakeSQS) SendMessageBatch(_ context.Context, in *sqs.SendMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.batches = append(f.batches, append([]types.SendMessageBatchRequestEntry(nil), in.Entries...))
	f.entryCount += len(in.Entries)
	if f.batchFn != nil {
		return f.batchFn(len(f.batches), in)
	}
	return f.acceptAll(in), nil
}

func (f *fakeSQS) acceptAll(in *sqs.SendMessageBatchInput) *sqs.SendMessageBatchOutput {
	out := &sqs.SendMessageBatchOutput{}
	for _, e := range in.Entries {
		f.nextID++
		out.Successful = append(out.Successful, types.SendMessageBatchResultEntry{Id: e.Id, MessageId: aws.String(fmt.Sprintf("m-%d", f.nextID))})
	}
	return out
}

func (f *fakeSQS) batchSizes() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	var n []int
	for _, b := range f.batches {
		n = append(n, len(b))
	}
	return n
}

func (f *fakeSQS) entries() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.entryCount
}

// benchSQS is the cheapest possible transport: it accepts every entry with a
// preallocated answer, so a benchmark measures the Publisher alone.
type benchSQS struct {
	outs [11]*sqs.SendMessageBatchOutput
}

func newBenchSQS() *benchSQS {
	b := &benchSQS{}
	for n := range b.outs {
		out := &sqs.SendMessageBatchOutput{}
		for j := range n {
			out.Successful = append(out.Successful, types.SendMessageBatchResultEntry{Id: aws.String(fmt.Sprint(j)), MessageId: aws.String("00000000-0000-4000-8000-000000000000")})
		}
		b.outs[n] = out
	}
	return b
}

func (b *benchSQS) SendMessage(context.Context, *sqs.SendMessageInput, ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	return &sqs.SendMessageOutput{MessageId: b.outs[1].Successful[0].MessageId}, nil
}

func (b *benchSQS) SendMessageBatch(_ context.Context, in *sqs.SendMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	return b.outs[len(in.Entries)], nil
}
