package main

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/stretchr/testify/require"

	"github.com/offload/offload/internal/function"
	"github.com/offload/offload/internal/testenv"
	"github.com/offload/offload/pkg/batch"
	"github.com/offload/offload/pkg/batch/batchtest"
	"github.com/offload/offload/pkg/logging"
	"github.com/offload/offload/pkg/message"
)

// fakeGreeter answers by user id: opted out, failing, or greeted.
type fakeGreeter struct {
	mu      sync.Mutex
	greeted []string
}

func (g *fakeGreeter) Greet(_ context.Context, s Signup) error {
	switch s.UserID {
	case "u-opted-out":
		return &OptedOutError{UserID: s.UserID}
	case "u-flaky":
		return errors.New("mail service: 503")
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.greeted = append(g.greeted, s.UserID)
	return nil
}

func record(id, body string) events.SQSMessage {
	return events.SQSMessage{MessageId: id, ReceiptHandle: "rh-" + id, Body: body,
		EventSourceARN: "arn:aws:sqs:us-east-1:123456789012:signups", Attributes: map[string]string{"ApproximateReceiveCount": "1"}}
}

// One batch through the processor build makes, with the default settings: each record goes where its
// error (or none) says.
func TestEachRecordGoesWhereItsErrorSays(t *testing.T) {
	t.Parallel()
	greeter := &fakeGreeter{}
	sqsFake := &batchtest.SQS{}
	h := &handler{greeter: greeter}
	cfg, err := function.Load[settings](testenv.Getenv(map[string]string{"DLQ_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/signups-dlq"}))
	require.NoError(t, err)
	proc, err := batch.New(h.handle, processorOptions(cfg, sqsFake, logging.New(logging.WithOutput(io.Discard)))...)
	require.NoError(t, err)

	resp, err := proc.Process(context.Background(), events.SQSEvent{Records: []events.SQSMessage{
		record("m-ok", `{"userId":"u-1","name":"Ada"}`),
		record("m-garbage", `{"userId":`),
		record("m-invalid", `{"userId":" ","name":""}`),
		record("m-opted-out", `{"userId":"u-opted-out","name":"Grace"}`),
		record("m-flaky", `{"userId":"u-flaky","name":"Linus"}`),
	}})
	require.NoError(t, err)

	require.Equal(t, []events.SQSBatchItemFailure{{ItemIdentifier: "m-flaky"}}, resp.BatchItemFailures, "only the transient failure comes back")
	require.Equal(t, int32(5), sqsFake.Visibility("rh-m-flaky"), "after the backoff's first delay")
	require.Equal(t, []string{"u-1"}, greeter.greeted)

	batchtest.RequireDeadLetters(t, sqsFake, map[string]batchtest.DeadLetter{
		"m-garbage":   {Class: message.ClassDecode, Reason: "decode signup: unexpected end of JSON input"},
		"m-invalid":   {Class: message.ClassValidation, Reason: "invalid signup: userId is empty\ninvalid signup: name has 0 characters, want 1 to 64"},
		"m-opted-out": {Class: message.ClassRejected, Reason: "user u-opted-out opted out of messages"},
	})
	require.NotContains(t, aws.ToString(sqsFake.DeadLettersByID()["m-opted-out"].MessageAttributes[message.AttrFailureReason].StringValue), "Grace",
		"reasons carry no payload")
}

func TestDecode(t *testing.T) {
	t.Parallel()
	s, err := Decode([]byte(`{"userId":"u-1","name":"Ada","plan":"pro"}`))
	require.NoError(t, err, "unknown fields are ignored: producers may add them first")
	require.Equal(t, Signup{UserID: "u-1", Name: "Ada"}, s)

	_, err = Decode([]byte(`{"userId":"u-1","name":"` + strings.Repeat("é", 65) + `"}`))
	var ve *message.ValidationError
	require.ErrorAs(t, err, &ve)
	require.Equal(t, []string{"name"}, ve.Fields())
}
