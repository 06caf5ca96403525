package batch_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/offload/offload/pkg/batch"
	"github.com/offload/offload/pkg/batch/batchtest"
	"github.com/offload/offload/pkg/logging"
	"github.com/offload/offload/pkg/message"
)

type auditMessage struct {
	AuditText string `json:"auditText"`
}

// decodeAudit is a domain decoder as the error contract wants it: its errors
// say their own class (message.DecodeError, message.ValidationError).
func decodeAudit(body string) (auditMessage, error) {
	var a auditMessage
	if err := json.Unmarshal([]byte(body), &a); err != nil {
		return auditMessage{}, &message.DecodeError{Kind: "audit message", Err: err}
	}
	v := message.ValidationError{Kind: "audit message"}
	if a.AuditText == "" {
		v.Add("auditText", "is empty")
	}
	if err := v.Err(); err != nil {
		return auditMessage{}, err
	}
	return a, nil
}

func Example() {
	// In main: client := sqs.NewFromConfig(cfg); lambda.Start(p.Process).
	client := &batchtest.SQS{}
	handler := func(ctx context.Context, msg events.SQSMessage) error {
		audit, err := decodeAudit(msg.Body)
		if err != nil {
			return err // classified permanent: dead-lettered with its class and reason
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

func ExampleAsPermanent() {
	// A domain error says its own class and permanence (batch.Classified);
	// the processor reads it as AsPermanent does.
	_, err := decodeAudit(`{"auditText": ""}`)
	pe, _ := batch.AsPermanent(err)
	fmt.Println(pe.Class, "-", pe.Reason)
	// Output: validation - invalid audit message: auditText is empty
}
