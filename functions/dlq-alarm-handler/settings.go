package main

import (
	"time"

	"github.com/offload/offload/internal/function"
)

// settings is the function's configuration, from the environment the stack
// sets (terraform/stack/functions.tf; the table in docs/development.md is
// generated from these tags).
type settings struct {
	function.Common
	TopicARN string `env:"NOTIFICATIONS_TOPIC_ARN,required" doc:"where DLQ notifications go"`
	// Alarms on other queues are reported without sampling: receiving from
	// a live queue would delay its messages and count towards their
	// maxReceiveCount.
	DeadLetterQueues map[string]bool `env:"DEAD_LETTER_QUEUES,required" doc:"names of the queues the handler may sample, comma-separated; alarms on other queues are reported without a sample"`
	TableName        string          `env:"IDEMPOTENCY_TABLE_NAME,required" doc:"records which alarm state changes were notified, so duplicate deliveries notify once"`
	Retention        time.Duration   `env:"IDEMPOTENCY_RETENTION" default:"168h" doc:"how long a reported state change is remembered; the stack sets it to outlive every retry of the alarm event (terraform/stack/retention.tf)"`
	LeaseMargin      time.Duration   `env:"REPORT_LEASE_MARGIN" default:"5s" max:"15m" doc:"a report's dedupe lease lasts the invocation's remaining time plus this; a retry after it takes over a report whose invocation died"`
	WebhookSecretARN string          `env:"WEBHOOK_SECRET_ARN" doc:"Secrets Manager secret holding a Slack-compatible webhook URL; unset: no webhook"`
	WebhookTimeout   time.Duration   `env:"WEBHOOK_TIMEOUT" default:"5s" max:"5m" doc:"bound of one webhook call"`
	SampleSize       int             `env:"SAMPLE_SIZE" default:"10" min:"1" max:"50" doc:"how many dead letters a notification lists"`
	// SQS counts visibility in whole seconds, up to 12 hours.
	SampleVisibility time.Duration `env:"SAMPLE_VISIBILITY_TIMEOUT" default:"5s" min:"1s" max:"12h" doc:"how long sampled dead letters stay hidden should the sampler fail to make them visible again at once"`
}
