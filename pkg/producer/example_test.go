package producer_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/offload/offload/pkg/message"
	"github.com/offload/offload/pkg/producer"
)

func ExamplePublisher_PublishBatch() {
	// In a service: client := sqs.NewFromConfig(cfg), built once at init.
	client := &fakeSQS{}
	pub, err := producer.New(client, "https://sqs.eu-west-1.amazonaws.com/123456789012/audit",
		producer.WithDefaultType(message.TypeAudit, "1"))
	if err != nil {
		fmt.Println(err)
		return
	}
	msgs := make([]producer.Message, 12)
	for i := range msgs {
		msgs[i] = producer.Message{Body: fmt.Sprintf(`{"auditText":"event %d"}`, i), IdempotencyKey: fmt.Sprintf("evt-%d", i)}
	}
	results, err := pub.PublishBatch(context.Background(), msgs)
	if err != nil {
		fmt.Println("some failed:", err)
	}
	fmt.Println(len(results), "published in", len(client.batches), "calls; first:", results[0].IdempotencyKey, results[0].MessageID)
	// Output: 12 published in 2 calls; first: evt-0 m-1
}

func ExamplePublisher_Publish_sizeGuard() {
	pub, _ := producer.New(&fakeSQS{}, "https://sqs.eu-west-1.amazonaws.com/123456789012/audit",
		producer.WithDefaultType(message.TypeAudit, "1"), producer.WithMaxMessageBytes(256*1024))
	_, err := pub.Publish(context.Background(), producer.Message{Body: strings.Repeat("x", 300*1024), IdempotencyKey: "k1"})
	fmt.Println(errors.Is(err, producer.ErrTooLarge))
	fmt.Println(err)
	// Output:
	// true
	// publish k1: message is 307276 bytes (body and attributes), over the limit of 262144 bytes
}

func ExampleAsyncPublisher() {
	client := &fakeSQS{}
	pub, _ := producer.New(client, "https://sqs.eu-west-1.amazonaws.com/123456789012/audit",
		producer.WithDefaultType(message.TypeAudit, "1"))
	async, _ := producer.NewAsync(pub,
		producer.WithBufferSize(500), producer.WithFlushInterval(100*time.Millisecond),
		producer.WithFailureHandler(func(f producer.Failure) {
			fmt.Println("not published:", f.Message.IdempotencyKey, f.Err)
		}))
	ctx := context.Background()
	for i := range 3 {
		// On a request path: queue and return; SQS is called in the background.
		if _, err := async.Publish(ctx, producer.Message{Body: fmt.Sprintf(`{"auditText":"%d"}`, i)}); err != nil {
			fmt.Println(err)
		}
	}
	// At shutdown (or before a Lambda handler returns: Flush).
	if err := async.Close(ctx); err != nil {
		fmt.Println(err)
	}
	fmt.Println(client.entries(), "sent")
	// Output: 3 sent
}

// In a Lambda handler, Flush before returning: once the handler answers,
// Lambda freezes the environment and the background sender stops with it.
func ExampleAsyncPublisher_Flush() {
	client := &fakeSQS{}
	pub, _ := producer.New(client, "https://sqs.eu-west-1.amazonaws.com/123456789012/audit",
		producer.WithDefaultType(message.TypeAudit, "1"))
	// Built once per container, at init; a long interval, as a buffer on a
	// busy path would have.
	async, _ := producer.NewAsync(pub, producer.WithFlushInterval(time.Hour))

	handler := func(ctx context.Context, texts []string) error {
		for _, text := range texts {
			if _, err := async.Publish(ctx, producer.Message{Body: fmt.Sprintf(`{"auditText":%q}`, text)}); err != nil {
				return err
			}
		}
		// Everything is sent (or reported as failed) before the invoke ends.
		return async.Flush(ctx)
	}
	if err := handler(context.Background(), []string{"a", "b"}); err != nil {
		fmt.Println(err)
	}
	fmt.Println(client.entries(), "sent when the handler returned")
	// Output: 2 sent when the handler returned
}
