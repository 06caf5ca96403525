package producer_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/require"

	"github.com/offload/offload/pkg/message"
	"github.com/offload/offload/pkg/producer"
)

func newAsync(t *testing.T, fake producer.SQSAPI, opts ...producer.AsyncOption) *producer.AsyncPublisher {
	t.Helper()
	p, err := producer.New(fake, queueURL, producer.WithDefaultType(message.TypeAudit, "1"),
		producer.WithRetry(producer.RetryPolicy{MaxAttempts: 2, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond}))
	require.NoError(t, err)
	a, err := producer.NewAsync(p, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = a.Close(context.Background()) })
	return a
}

func TestAsyncFlushesOnSize(t *testing.T) {
	t.Parallel()
	fake := &fakeSQS{}
	a := newAsync(t, fake, producer.WithFlushSize(3), producer.WithFlushInterval(time.Hour))
	ctx := context.Background()
	for range 6 {
		_, err := a.Publish(ctx, producer.Message{Body: "x"})
		require.NoError(t, err)
	}
	require.Eventually(t, func() bool { return fake.entries() == 6 }, 5*time.Second, 5*time.Millisecond)
	require.Equal(t, []int{3, 3}, fake.batchSizes())
}

func TestAsyncFlushesOnInterval(t *testing.T) {
	t.Parallel()
	fake := &fakeSQS{}
	a := newAsync(t, fake, producer.WithFlushSize(10), producer.WithFlushInterval(20*time.Millisecond))
	_, err := a.Publish(context.Background(), producer.Message{Body: "x"})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return fake.entries() == 1 }, 5*time.Second, 5*time.Millisecond)
}

func TestAsyncFlushAndCloseSendEverything(t *testing.T) {
	t.Parallel()
	fake := &fakeSQS{}
	a := newAsync(t, fake, producer.WithFlushSize(10), producer.WithFlushInterval(time.Hour))
	ctx, seg := traced(t, "svc")
	key, err := a.Publish(ctx, producer.Message{Body: "x"})
	require.NoError(t, err)
	require.Regexp(t, uuidRE, key)
	require.NoError(t, a.Flush(context.Background()))
	require.Equal(t, 1, fake.entries())
	sent := fake.batches[0][0]
	require.Equal(t, key, attr(t, sent.MessageAttributes, message.AttrIdempotencyKey))
	require.Contains(t, aws.ToString(sent.MessageSystemAttributes[message.SystemAttrTraceHeader].StringValue), seg.TraceID,
		"the trace header is captured when the message is queued")

	for range 4 {
		_, err := a.Publish(context.Background(), producer.Message{Body: "y"})
		require.NoError(t, err)
	}
	require.NoError(t, a.Close(context.Background()))
	require.Equal(t, 5, fake.entries())
	_, err = a.Publish(context.Background(), producer.Message{Body: "z"})
	require.ErrorIs(t, err, producer.ErrClosed)
	require.ErrorIs(t, a.Flush(context.Background()), producer.ErrClosed)
}

// gate blocks every SendMessageBatch until released.
type gate struct {
	fakeSQS
	release chan struct{}
	once    sync.Once
	started chan struct{}
}

func (g *gate) SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, o ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	g.once.Do(func() { close(g.started) })
	select {
	case <-g.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return g.fakeSQS.SendMessageBatch(ctx, in, o...)
}

func TestAsyncBufferFullErrorsOrBlocks(t *testing.T) {
	t.Parallel()
	g := &gate{release: make(chan struct{}), started: make(chan struct{})}
	a := newAsync(t, g, producer.WithBufferSize(2), producer.WithFlushSize(1), producer.WithErrorWhenFull())
	ctx := context.Background()
	_, err := a.Publish(ctx, producer.Message{Body: "1"})
	require.NoError(t, err)
	<-g.started // the worker holds message 1 in a blocked send
	for range 2 {
		_, err = a.Publish(ctx, producer.Message{Body: "buffered"})
		require.NoError(t, err)
	}
	_, err = a.Publish(ctx, producer.Message{Body: "overflow"})
	require.ErrorIs(t, err, producer.ErrBufferFull)
	close(g.release)
	require.NoError(t, a.Close(ctx))
	require.Equal(t, 3, g.entries(), "everything accepted was sent; the rejected one was never accepted")

	g2 := &gate{release: make(chan struct{}), started: make(chan struct{})}
	b := newAsync(t, g2, producer.WithBufferSize(1), producer.WithFlushSize(1))
	_, err = b.Publish(ctx, producer.Message{Body: "1"})
	require.NoError(t, err)
	<-g2.started
	_, err = b.Publish(ctx, producer.Message{Body: "2"})
	require.NoError(t, err)
	short, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = b.Publish(short, producer.Message{Body: "3"})
	require.ErrorIs(t, err, context.DeadlineExceeded, "back-pressure: blocks until the context ends")
	require.GreaterOrEqual(t, time.Since(start), 25*time.Millisecond)
	close(g2.release)
	require.NoError(t, b.Close(ctx))
	require.Equal(t, 2, g2.entries())
}

func TestAsyncReportsFailuresNeverDrops(t *testing.T) {
	t.Parallel()
	fake := &fakeSQS{}
	fake.batchFn = func(int, *sqs.SendMessageBatchInput) (*sqs.SendMessageBatchOutput, error) {
		return nil, &smithy.GenericAPIError{Code: "AccessDenied", Message: "no", Fault: smithy.FaultClient}
	}
	var mu sync.Mutex
	var failures []producer.Failure
	a := newAsync(t, fake, producer.WithFlushInterval(time.Hour), producer.WithFailureHandler(func(f producer.Failure) {
		mu.Lock()
		failures = append(failures, f)
		mu.Unlock()
	}))
	ctx := context.Background()
	for range 3 {
		_, err := a.Publish(ctx, producer.Message{Body: "x"})
		require.NoError(t, err)
	}
	ferr := a.Flush(ctx)
	require.ErrorContains(t, ferr, "3 of 3 messages not published")
	_, err := a.Publish(ctx, producer.Message{Body: "y"})
	require.NoError(t, err)
	err = a.Close(ctx)
	var be *producer.BatchError
	require.ErrorAs(t, err, &be)
	require.Equal(t, 4, be.Failed)
	require.Equal(t, 4, be.Total)
	require.ErrorContains(t, err, "AccessDenied")
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, failures, 4)
	require.Equal(t, "y", failures[3].Message.Body)
	require.NotEmpty(t, failures[3].Message.IdempotencyKey)
}

func TestAsyncCloseTimeoutReportsUnsent(t *testing.T) {
	t.Parallel()
	g := &gate{release: make(chan struct{}), started: make(chan struct{})}
	a := newAsync(t, g, producer.WithFlushSize(1))
	for range 3 {
		_, err := a.Publish(context.Background(), producer.Message{Body: "x"})
		require.NoError(t, err)
	}
	<-g.started
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	err := a.Close(ctx) // the gate never opens
	var be *producer.BatchError
	require.ErrorAs(t, err, &be)
	require.Equal(t, 3, be.Failed, "nothing is dropped silently")
}

func TestAsyncValidatesSynchronously(t *testing.T) {
	t.Parallel()
	fake := &fakeSQS{}
	a := newAsync(t, fake)
	_, err := a.Publish(context.Background(), producer.Message{Body: strings.Repeat("x", message.MaxMessageBytes+1)})
	require.ErrorIs(t, err, producer.ErrTooLarge)
	_, err = producer.NewAsync(nil, producer.WithBufferSize(0))
	require.ErrorContains(t, err, "publisher is required")
	require.ErrorContains(t, err, "buffer size must be at least 1")
}
