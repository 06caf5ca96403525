//go:build integration

package producer_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/offload/offload/internal/testenv"
	"github.com/offload/offload/pkg/message"
	"github.com/offload/offload/pkg/producer"
)

// BenchmarkProducerThroughputSideBySide moves the same b.N messages to the
// emulator three ways in one run and reports each rate and the ratios, so the
// comparison never mixes figures from different runs (make bench-e2e prints
// it):
//
//   - single: one SendMessage per message (Publish), one after the other;
//   - batch:  PublishBatch of 10 (one SendMessageBatch per 10), one after the other;
//   - async:  AsyncPublisher.Publish of every message, then Flush.
//
// Each mode sends to its own queue, so no mode pays for another's backlog.
func BenchmarkProducerThroughputSideBySide(b *testing.B) {
	ctx := context.Background()
	cfg := testenv.AWSConfig(b)
	client := sqs.NewFromConfig(cfg)
	body := `{"auditText":"throughput","auditTime":"2026-12-01T00:00:00Z"}`
	newPublisher := func() *producer.Publisher {
		pub, err := producer.New(client, newQueue(b, client), producer.WithDefaultType(message.TypeAudit, "1"))
		if err != nil {
			b.Fatal(err)
		}
		return pub
	}
	single, batched, async := newPublisher(), newPublisher(), newPublisher()
	asyncPub, err := producer.NewAsync(async)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = asyncPub.Close(context.Background()) })

	rate := func(d time.Duration) float64 { return float64(b.N) / d.Seconds() }
	b.ResetTimer()

	start := time.Now()
	for range b.N {
		if _, err := single.Publish(ctx, producer.Message{Body: body}); err != nil {
			b.Fatal(err)
		}
	}
	singleRate := rate(time.Since(start))

	start = time.Now()
	for i := 0; i < b.N; i += 10 {
		msgs := make([]producer.Message, min(10, b.N-i))
		for j := range msgs {
			msgs[j] = producer.Message{Body: body}
		}
		if _, err := batched.PublishBatch(ctx, msgs); err != nil {
			b.Fatal(err)
		}
	}
	batchRate := rate(time.Since(start))

	start = time.Now()
	for range b.N {
		if _, err := asyncPub.Publish(ctx, producer.Message{Body: body}); err != nil {
			b.Fatal(err)
		}
	}
	if err := asyncPub.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	asyncRate := rate(time.Since(start))
	b.StopTimer()

	b.ReportMetric(singleRate, "single-msgs/s")
	b.ReportMetric(batchRate, "batch-msgs/s")
	b.ReportMetric(asyncRate, "async-msgs/s")
	b.ReportMetric(batchRate/singleRate, "batch/single")
	b.ReportMetric(asyncRate/singleRate, "async/single")
	if b.N >= 100 {
		// The figure the issue tracks, as one line for the log.
		fmt.Printf("producer throughput: single=%.0f/s batch=%.0f/s async=%.0f/s batch_ratio=%.1f async_ratio=%.1f (n=%d)\n",
			singleRate, batchRate, asyncRate, batchRate/singleRate, asyncRate/singleRate, b.N)
	}
}
