package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-lambda-go/events"

	"github.com/offload/offload/pkg/logging"
	"github.com/offload/offload/pkg/message"
)

// Greeter sends one welcome. An error it returns is transient unless it says
// otherwise (batch.Classified), as *OptedOutError does.
type Greeter interface {
	Greet(ctx context.Context, s Signup) error
}

// OptedOutError says the user asked for no messages: sending again cannot
// help. It is a domain error that classifies itself — permanent, class
// message.ClassRejected — so the handler needs no mapping for it.
type OptedOutError struct {
	UserID string
}

// Error is the dead letter's reason: the user id, nothing else of the body.
func (e *OptedOutError) Error() string {
	return fmt.Sprintf("user %s opted out of messages", e.UserID)
}

// FailureClass is message.ClassRejected.
func (e *OptedOutError) FailureClass() string { return message.ClassRejected }

// Permanent is always true.
func (e *OptedOutError) Permanent() bool { return true }

// handler welcomes the user of one SQS record. Built once per container; it
// holds no per-message state.
type handler struct {
	greeter Greeter
}

// handle is all the domain logic there is: decode, greet, log. Every error is
// returned as it is; pkg/batch reads its class and permanence.
func (h *handler) handle(ctx context.Context, msg events.SQSMessage) error {
	s, err := Decode([]byte(msg.Body))
	if err != nil {
		return err // decode or validation: dead-lettered with its reason
	}
	if err := h.greeter.Greet(ctx, s); err != nil {
		var opted *OptedOutError
		if errors.As(err, &opted) {
			logging.FromContext(ctx).WithField("user_id", s.UserID).Info("user opted out: no welcome")
		}
		return err // opted out: dead-lettered; anything else: retried with backoff
	}
	logging.FromContext(ctx).WithField("user_id", s.UserID).Info("welcome sent")
	return nil
}
