package tracing_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/offload/offload/pkg/tracing"
)

// BenchmarkSpan is the cost of one traced unit of work: a consumer record's
// segment continued from its AWSTraceHeader, annotated, with one AWS
// subsegment, ended and sent — to nothing (encode only) and over UDP to a
// local listener (encode + datagram).
func BenchmarkSpan(b *testing.B) {
	b.Run("encode", func(b *testing.B) {
		tr, err := tracing.NewXRay(tracing.Config{Emitter: discard{}, Sampling: fixedSampler{true}})
		require.NoError(b, err)
		benchSpan(b, tr)
	})
	b.Run("udp", func(b *testing.B) {
		conn, d := daemon(b)
		go func() {
			buf := make([]byte, 65536)
			for {
				if _, _, err := conn.ReadFromUDP(buf); err != nil {
					return
				}
			}
		}()
		tr, err := tracing.NewXRay(tracing.Config{Daemon: d, Sampling: fixedSampler{true}})
		require.NoError(b, err)
		defer tr.Close()
		benchSpan(b, tr)
	})
	b.Run("not-sampled", func(b *testing.B) {
		tr, err := tracing.NewXRay(tracing.Config{Emitter: discard{}, Sampling: fixedSampler{false}})
		require.NoError(b, err)
		benchSpan(b, tr)
	})
}

func benchSpan(b *testing.B, tr *tracing.XRay) {
	h := producerHdr
	errWrite := errors.New("conditional check failed")
	b.ReportAllocs()
	for b.Loop() {
		ctx, seg := tr.Start(context.Background(), "audit-receiver", tracing.WithKind(tracing.KindServer),
			tracing.RemoteParent(h), tracing.WithOrigin("AWS::Lambda::Function"))
		seg.Annotate("message_id", "5fea7756-0ea4-451a-a703-a558b933e274")
		seg.Annotate("queue", "offload-audit")
		seg.Annotate("receive_count", 1)
		_, sub := tr.Start(ctx, "DynamoDB", tracing.WithKind(tracing.KindClient))
		sub.SetAWS(tracing.AWSCall{Operation: "PutItem", Region: "us-east-1", RequestID: "R1", TableName: "audit"})
		sub.SetHTTP(tracing.HTTP{Status: 400})
		sub.SetError(errWrite, tracing.ClientError)
		sub.End()
		seg.Annotate("outcome", "success")
		seg.End()
	}
}

func BenchmarkTraceHeader(b *testing.B) {
	tr, err := tracing.NewXRay(tracing.Config{Emitter: discard{}, Sampling: fixedSampler{true}})
	require.NoError(b, err)
	ctx, _ := tr.Start(context.Background(), "bench", tracing.WithKind(tracing.KindServer))
	b.ReportAllocs()
	for b.Loop() {
		_ = tracing.TraceHeader(ctx)
	}
}
