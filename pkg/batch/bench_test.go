package batch_test

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/offload/offload/pkg/batch"
	"github.com/offload/offload/pkg/logging"
)

// BenchmarkProcess measures the processor's overhead per record (one op is
// one record) with a handler that does nothing, logging included (JSON to
// io.Discard), in batches of 10.
func BenchmarkProcess(b *testing.B) {
	for _, conc := range []int{1, 4} {
		b.Run(map[int]string{1: "sequential", 4: "concurrency=4"}[conc], func(b *testing.B) {
			p, err := batch.New(func(context.Context, events.SQSMessage) error { return nil },
				batch.WithConcurrency(conc), batch.WithLogger(logging.New(logging.WithOutput(io.Discard))))
			if err != nil {
				b.Fatal(err)
			}
			event := events.SQSEvent{Records: records(10)}
			ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
			defer cancel()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i += 10 {
				ev := event
				ev.Records = event.Records[:min(10, b.N-i)]
				if resp, _ := p.Process(ctx, ev); len(resp.BatchItemFailures) != 0 {
					b.Fatal("unexpected failures")
				}
			}
		})
	}
}
