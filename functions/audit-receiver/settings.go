package main

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/offload/offload/pkg/batch"
	"github.com/offload/offload/pkg/message"
)

// settings is the function's configuration, from the environment the stack sets
// (docs/development.md).
type settings struct {
	// TableName is the AuditMessages table (AUDIT_TABLE_NAME, required).
	TableName string
	// DLQURL is the audit queue's DLQ; permanent failures go there with their
	// reason (DLQ_URL, required).
	DLQURL string
	// Environment names the deployment in metrics (OFFLOAD_ENV, default "unknown").
	Environment string
	// LogLevel is the logrus level (LOG_LEVEL, default info).
	LogLevel string
	// Concurrency is how many records of a batch are written at once
	// (AUDIT_CONCURRENCY, default 10, 1–100).
	Concurrency int
	// BackoffBase and BackoffMax bound the visibility backoff of throttled
	// records (AUDIT_BACKOFF_BASE default 5s, AUDIT_BACKOFF_MAX default 10m:
	// with the stack's 12 receives, about an hour before a record is
	// dead-lettered; terraform/stack/README.md, "Retry budget").
	BackoffBase, BackoffMax time.Duration
	// DLQMaxBytes is the DLQ's maximum message size, which dead letters are
	// trimmed to (DLQ_MAX_MESSAGE_BYTES, default 262144).
	DLQMaxBytes int
	// MaxReceiveCount is the trigger queue's maxReceiveCount
	// (MAX_RECEIVE_COUNT, default 0 = unknown): a record still failing on
	// that receive is dead-lettered with its reason (batch.WithMaxReceiveCount).
	MaxReceiveCount int
}

// loadSettings reads the configuration and reports every problem at once.
func loadSettings(getenv func(string) string) (settings, error) {
	c := settings{
		TableName: getenv("AUDIT_TABLE_NAME"), DLQURL: getenv("DLQ_URL"),
		Environment: getenv("OFFLOAD_ENV"), LogLevel: getenv("LOG_LEVEL"),
		Concurrency: 10, BackoffBase: 5 * time.Second, BackoffMax: 10 * time.Minute,
		DLQMaxBytes: batch.DefaultDeadLetterMaxBytes,
	}
	var errs []error
	if c.TableName == "" {
		errs = append(errs, errors.New("AUDIT_TABLE_NAME is required"))
	}
	if c.DLQURL == "" {
		errs = append(errs, errors.New("DLQ_URL is required"))
	}
	if c.Environment == "" {
		c.Environment = "unknown"
	}
	if v := getenv("AUDIT_CONCURRENCY"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			errs = append(errs, fmt.Errorf("AUDIT_CONCURRENCY must be an integer from 1 to 100, got %q", v))
		}
		c.Concurrency = n
	}
	if v := getenv("MAX_RECEIVE_COUNT"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			errs = append(errs, fmt.Errorf("MAX_RECEIVE_COUNT must be an integer from 1 to 1000 (the queue's redrive maxReceiveCount), got %q", v))
		}
		c.MaxReceiveCount = n
	}
	if v := getenv("DLQ_MAX_MESSAGE_BYTES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1024 || n > message.MaxMessageBytes {
			errs = append(errs, fmt.Errorf("DLQ_MAX_MESSAGE_BYTES must be an integer from 1024 to %d, got %q", message.MaxMessageBytes, v))
		}
		c.DLQMaxBytes = n
	}
	for _, d := range []struct {
		name string
		dst  *time.Duration
	}{{"AUDIT_BACKOFF_BASE", &c.BackoffBase}, {"AUDIT_BACKOFF_MAX", &c.BackoffMax}} {
		if v := getenv(d.name); v != "" {
			dur, err := time.ParseDuration(v)
			if err != nil || dur <= 0 {
				errs = append(errs, fmt.Errorf("%s must be a positive duration such as 2s, got %q", d.name, v))
			}
			*d.dst = dur
		}
	}
	return c, errors.Join(errs...)
}
