package main

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/sirupsen/logrus"

	"github.com/offload/offload/pkg/batch"
	"github.com/offload/offload/pkg/logging"
	"github.com/offload/offload/pkg/sms"
)

// notStartedRetry is how soon a request that was not started (too little
// time left) is delivered again: the shortest delay pkg/batch sets.
const notStartedRetry = time.Second

// Sender sends one request at most once (sms.Sender).
type Sender interface {
	Send(ctx context.Context, r sms.Request) (sms.Result, error)
}

// Counter counts events as metrics (metrics.Recorder).
type Counter interface {
	Count(name string, n int)
}

// handler sends one SQS record's SMS request. Built once per container.
type handler struct {
	sender  Sender
	metrics Counter
}

// handle decodes and sends one request, counts what happened and says when a
// retry may come. The errors of sms.Decode and sms.Sender say their own
// failure class and permanence (pkg/batch, Classified), so they are returned
// as they are: decode, validation, conflict, unknown outcome and rejection
// are dead-lettered with their reason, the rest retried. The body is never
// logged; the number only masked.
func (h *handler) handle(ctx context.Context, msg events.SQSMessage) error {
	r, err := sms.Decode([]byte(msg.Body))
	if err != nil {
		return err
	}
	log := logging.FromContext(ctx).WithFields(logrus.Fields{logging.FieldSMSRequestID: r.RequestID, "to": sms.MaskNumber(r.To)})
	res, err := h.sender.Send(ctx, r)
	if err == nil {
		log = log.WithFields(logrus.Fields{"provider": res.Receipt.Provider, "provider_id": res.Receipt.ID, "sms": res.Status.String()})
		if res.Status == sms.AlreadySent {
			log.Info("sms already sent by an earlier delivery: nothing sent")
			h.metrics.Count("SMSDuplicateDelivery", 1)
		} else {
			log.Info("sms sent")
			h.metrics.Count("SMSSent", 1)
		}
		return nil
	}

	var unknown *sms.UnknownOutcomeError
	var perr *sms.Error
	switch {
	case errors.Is(err, sms.ErrConflict):
		h.metrics.Count("SMSConflict", 1)
	case errors.As(err, &unknown):
		log.WithError(err).Error("sms outcome unknown: reported, not resent")
		h.metrics.Count("SMSUnknownOutcome", 1)
	case errors.As(err, &perr) && perr.Kind == sms.Rejected:
		h.metrics.Count("SMSRejected", 1)
	case errors.Is(err, sms.ErrNoTimeToSend):
		// Never attempted: back on the queue as soon as pkg/batch allows
		// (1 s; SQS still counts the receive), not after the backoff.
		log.WithError(err).Info("sms not started: too little time left in this invocation")
		h.metrics.Count("SMSNotStarted", 1)
		return batch.RetryAfter(notStartedRetry, err)
	case errors.As(err, &perr) && perr.Kind == sms.Retryable:
		h.metrics.Count("SMSRetry", 1)
		if d, ok := sms.RetryAfterOf(err); ok {
			return batch.RetryAfter(d, err)
		}
	}
	// Permanent errors dead-letter themselves; ErrInProgress, store errors
	// and retryable answers without a delay take the processor's backoff.
	return err
}
