package batch_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/offload/offload/pkg/batch"
	"github.com/offload/offload/pkg/batch/batchtest"
	"github.com/offload/offload/pkg/logging"
)

type auditMessage struct {
	AuditText string `json:"auditText"`
}

func (a *auditMessage) Validate() error {
	if a.AuditText == "" {
		return errors.New("auditText is empty")
	}
	return nil
}

func Example() {
	// In main: client := sqs.NewFromConfig(cfg); lambda.Start(p.Process).
	client := &batchtest.SQS{}
	handler := func(ctx context.Context, msg events.SQSMessage) error {
		audit, err := batch.DecodeJSON[auditMessage](msg.Body)
		if err != nil {
			return err // permanent: dead-lettered with its reason
		}
		if audit.AuditText == "flaky" {
			return errors.New("table throttled") // transient: delivered again
		}
		return nil
	}
	p, err := batch.New(handler,
		batch.WithConcurrency(4),
		batch.WithDeadLetter(client, "https://sqs.eu-west-1.amazonaws.com/123456789012/audit-dlq"),
		batch.WithBackoff(client, batch.ExponentialBackoff(30*time.Second, 15*time.Minute)),
		batch.WithLogger(logging.New(logging.WithOutput(io.Discard))),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	recs := records(3)
	recs[0].Body = `{"auditText":"signed in"}`
	recs[1].Body = `{"auditText":"flaky"}`
	recs[2].Body = `{"auditText":`
	resp, _ := p.Process(context.Background(), events.SQSEvent{Records: recs})
	fmt.Println("redeliver:", failureIDs(resp))
	fmt.Println("dead-lettered:", len(client.DeadLetters()), "visibility changes:", len(client.VisibilityChanges()))
	// Output:
	// redeliver: [msg-2]
	// dead-lettered: 1 visibility changes: 1
}

func ExampleDecodeJSON() {
	_, err := batch.DecodeJSON[auditMessage](`{"auditText": 42}`)
	pe, _ := batch.AsPermanent(err)
	fmt.Println(pe.Class, "-", pe.Reason)
	// Output: decode - field "auditText": JSON number does not fit string
}
