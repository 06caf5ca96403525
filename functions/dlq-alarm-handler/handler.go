package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/offload/offload/pkg/dlq"
	"github.com/offload/offload/pkg/idempotency"
	"github.com/offload/offload/pkg/logging"
)

// Sampler reads a dead-letter queue without consuming it (dlq.Sampler).
type Sampler interface {
	Sample(ctx context.Context, queueName string, n int) (dlq.Sample, error)
}

type namedNotifier struct {
	name string
	dlq.Notifier
}

// handler reports alarm state changes. Built once per container.
type handler struct {
	env        string
	sampler    Sampler
	sampleSize int
	deadQueues map[string]bool
	store      idempotency.Store
	notifiers  []namedNotifier
	log        logrus.FieldLogger
	// leaseMargin: a report's lease is the invocation's remaining time
	// plus this (REPORT_LEASE_MARGIN).
	leaseMargin time.Duration
}

// handle takes the SNS event carrying CloudWatch's alarm JSON, or the event of
// an alarm that invokes the function directly. A failure to notify is
// returned so Lambda retries the (asynchronous) invocation; a state change
// already notified is skipped.
func (h *handler) handle(ctx context.Context, raw json.RawMessage) error {
	alarms, perr := dlq.ParseEvent(raw)
	if perr != nil {
		logging.FromLambda(ctx, h.log).WithError(perr).Error("part of the event is not a CloudWatch alarm")
	}
	errs := []error{perr}
	for _, a := range alarms {
		errs = append(errs, h.report(ctx, a))
	}
	return errors.Join(errs...)
}

func (h *handler) report(ctx context.Context, a dlq.Alarm) error {
	log := logging.FromLambda(ctx, h.log).WithFields(logrus.Fields{"alarm": a.Name, "state": a.State, "queue": a.QueueName(), "sns_message_id": a.DeliveryID})
	if a.State == dlq.StateInsufficientData {
		log.Info("alarm has insufficient data: nothing to report")
		return nil
	}
	if a.State == dlq.StateOK && a.PreviousState == dlq.StateInsufficientData {
		// A new alarm starts INSUFFICIENT_DATA and its first evaluation
		// moves it to OK, firing the OK actions (every deploy): nothing was
		// ever wrong, so there is nothing to recover from.
		log.Info("alarm went from insufficient data to OK: nothing to report")
		return nil
	}
	key := "alarm|" + a.ChangeKey()
	out, err := h.store.Begin(ctx, key, idempotency.HashPayload([]byte(key)), idempotency.LeaseFor(ctx, h.leaseMargin, time.Minute))
	if err != nil {
		return fmt.Errorf("begin report of %s: %w", a.Name, err)
	}
	switch out.Status {
	case idempotency.StatusCompleted, idempotency.StatusUnknown:
		log.WithField("dedupe", out.Status.String()).Info("state change already reported: duplicate delivery skipped")
		return nil
	case idempotency.StatusInProgress:
		// Another invocation is on it — or died on it and its lease has not
		// run out. Fail, so that Lambda retries later and, if it did die,
		// the retry takes over the expired lease: never lose the report.
		return fmt.Errorf("report of %s %s is in progress elsewhere until %s; retry later",
			a.Name, a.State, out.LeaseUntil.UTC().Format(time.RFC3339))
	}
	// Acquired, or LeaseExpired (an earlier attempt died): for a
	// notification, twice is better than never.

	n := dlq.Notification{Environment: h.env, Alarm: a}
	if a.State == dlq.StateAlarm && h.deadQueues[a.QueueName()] {
		s, err := h.sampler.Sample(ctx, a.QueueName(), h.sampleSize)
		if err != nil {
			// Still notify: the alarm matters more than the sample.
			log.WithError(err).Warn("could not sample the dead-letter queue")
		} else {
			n.Sample = &s
		}
	}
	var sent int
	var errs []error
	for _, nt := range h.notifiers {
		err := nt.Notify(ctx, n)
		switch {
		case err == nil:
			sent++
		case errors.Is(err, dlq.ErrWebhookNotSet):
			log.Debug("webhook secret has no value: webhook skipped")
		default:
			log.WithError(err).WithField("notifier", nt.name).Error("notification failed")
			errs = append(errs, err)
		}
	}
	if sent == 0 {
		_ = h.store.Release(context.WithoutCancel(ctx), key, out.Token)
		return fmt.Errorf("report %s %s: %w", a.Name, a.State, errors.Join(append(errs, errors.New("no notifier succeeded"))...))
	}
	if err := h.store.Complete(context.WithoutCancel(ctx), key, out.Token, nil); err != nil {
		log.WithError(err).Warn("notified, but could not record it: a duplicate delivery may notify again")
	}
	fields := logrus.Fields{"notified": sent}
	if n.Sample != nil {
		fields["dead_letters"] = n.Sample.Visible
		fields["sampled"] = len(n.Sample.Messages)
	}
	log.WithFields(fields).Info("alarm state change reported")
	return nil
}
