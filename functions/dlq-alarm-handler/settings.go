package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// settings is the function's configuration, from the environment the stack sets.
type settings struct {
	// TopicARN is where notifications go (NOTIFICATIONS_TOPIC_ARN, required).
	TopicARN string
	// TableName records which alarm state changes were notified, so duplicate
	// SNS deliveries notify once (IDEMPOTENCY_TABLE_NAME, required).
	TableName string
	// DeadLetterQueues are the queue names the handler may sample
	// (DEAD_LETTER_QUEUES, comma-separated, required). Alarms on other
	// queues are reported without sampling: receiving from a live queue
	// would delay its messages and count towards their maxReceiveCount.
	DeadLetterQueues map[string]bool
	// Retention is how long a reported alarm state change is remembered
	// (IDEMPOTENCY_RETENTION, default 7 days). The stack sets it to outlive
	// every retry of the alarm event (terraform/stack/retention.tf).
	Retention time.Duration
	// WebhookSecretARN names a Slack-compatible webhook URL in Secrets
	// Manager (WEBHOOK_SECRET_ARN, optional).
	WebhookSecretARN string
	// SampleSize is how many dead letters a notification lists (SAMPLE_SIZE, default 10, 1–50).
	SampleSize int
	// Environment names the deployment in notifications (OFFLOAD_ENV).
	Environment string
	// LogLevel is the logrus level (LOG_LEVEL).
	LogLevel string
}

func loadSettings(getenv func(string) string) (settings, error) {
	s := settings{TopicARN: getenv("NOTIFICATIONS_TOPIC_ARN"), TableName: getenv("IDEMPOTENCY_TABLE_NAME"),
		WebhookSecretARN: getenv("WEBHOOK_SECRET_ARN"), SampleSize: 10, Environment: getenv("OFFLOAD_ENV"),
		LogLevel: getenv("LOG_LEVEL"), DeadLetterQueues: map[string]bool{}, Retention: 7 * 24 * time.Hour}
	var errs []error
	if s.TopicARN == "" {
		errs = append(errs, errors.New("NOTIFICATIONS_TOPIC_ARN is required"))
	}
	if s.TableName == "" {
		errs = append(errs, errors.New("IDEMPOTENCY_TABLE_NAME is required"))
	}
	for _, q := range strings.Split(getenv("DEAD_LETTER_QUEUES"), ",") {
		if q = strings.TrimSpace(q); q != "" {
			s.DeadLetterQueues[q] = true
		}
	}
	if len(s.DeadLetterQueues) == 0 {
		errs = append(errs, errors.New("DEAD_LETTER_QUEUES is required (comma-separated queue names)"))
	}
	if v := getenv("SAMPLE_SIZE"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 50 {
			errs = append(errs, fmt.Errorf("SAMPLE_SIZE must be an integer from 1 to 50, got %q", v))
		}
		s.SampleSize = n
	}
	if v := getenv("IDEMPOTENCY_RETENTION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("IDEMPOTENCY_RETENTION must be a positive duration such as 336h, got %q", v))
		}
		s.Retention = d
	}
	if s.Environment == "" {
		s.Environment = "unknown"
	}
	return s, errors.Join(errs...)
}
