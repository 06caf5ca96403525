package producer_test

import (
	"context"
	"testing"

	"github.com/offload/offload/pkg/message"
	"github.com/offload/offload/pkg/producer"
)

// In these benchmarks one op is one message: ns/op and allocs/op are the
// Publisher's per-message overhead on a transport that costs nothing.

func benchPublisher(b *testing.B) *producer.Publisher {
	b.Helper()
	p, err := producer.New(newBenchSQS(), queueURL, producer.WithDefaultType(message.TypeAudit, "1"))
	if err != nil {
		b.Fatal(err)
	}
	return p
}

func BenchmarkPublishBatch(b *testing.B) {
	p := benchPublisher(b)
	ctx, _ := traced(b, "bench")
	msgs := make([]producer.Message, 10)
	for i := range msgs {
		msgs[i] = producer.Message{Body: `{"auditText":"user 42 signed in","auditTime":"2026-11-26T23:12:43.1234567Z"}`}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += len(msgs) {
		if _, err := p.PublishBatch(ctx, msgs[:min(len(msgs), b.N-i)]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPublish(b *testing.B) {
	p := benchPublisher(b)
	ctx, _ := traced(b, "bench")
	msg := producer.Message{Body: `{"auditText":"user 42 signed in","auditTime":"2026-11-26T23:12:43.1234567Z"}`}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Publish(ctx, msg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAsyncPublish(b *testing.B) {
	p := benchPublisher(b)
	a, err := producer.NewAsync(p, producer.WithBufferSize(1000))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	msg := producer.Message{Body: `{"auditText":"user 42 signed in","auditTime":"2026-11-26T23:12:43.1234567Z"}`}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Publish(ctx, msg); err != nil {
			b.Fatal(err)
		}
	}
	if err := a.Close(ctx); err != nil {
		b.Fatal(err)
	}
}
