package batch_test

import (
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-xray-sdk-go/v2/daemoncfg"

	"github.com/offload/offload/pkg/batch"
	"github.com/offload/offload/pkg/logging"
	"github.com/offload/offload/pkg/tracing"
	"github.com/offload/offload/pkg/tracing/tracingtest"
)

// BenchmarkProcess measures the processor's overhead per record (one op is
// one record) with a handler that does nothing, logging included (JSON to
// io.Discard), in batches of 10. Records carry a sampled AWSTraceHeader:
// "traced" sends each record's segment over UDP to a local socket standing in
// for the X-Ray daemon, as in Lambda; "untraced" has tracing off.
func BenchmarkProcess(b *testing.B) {
	for _, c := range []struct {
		name   string
		conc   int
		traced bool
	}{{"sequential", 1, true}, {"concurrency=4", 4, true}, {"sequential/untraced", 1, false}} {
		b.Run(c.name, func(b *testing.B) {
			tr := benchTracer(b, c.traced)
			p, err := batch.New(func(context.Context, events.SQSMessage) error { return nil },
				batch.WithConcurrency(c.conc), batch.WithLogger(logging.New(logging.WithOutput(io.Discard))),
				batch.WithTracer(tr))
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

// benchTracer returns an X-Ray tracer sending to a UDP listener, or a
// disabled one. The listener does not read: the daemon is another process in
// Lambda, and its work is not the processor's (the kernel drops datagrams
// once the socket's buffer is full; the send costs the same).
func benchTracer(b *testing.B, traced bool) tracing.Tracer {
	if !traced {
		tp, err := tracing.NewProvider(tracing.Config{Disabled: true})
		if err != nil {
			b.Fatal(err)
		}
		return tracing.NewTracer(tp)
	}
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close() })
	addr := conn.LocalAddr().(*net.UDPAddr)
	tp, err := tracing.NewProvider(tracing.Config{
		Daemon:   &daemoncfg.DaemonEndpoints{UDPAddr: addr, TCPAddr: &net.TCPAddr{IP: addr.IP, Port: addr.Port}},
		Sampling: tracingtest.Always{},
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { tp.Close() })
	return tracing.NewTracer(tp)
}
