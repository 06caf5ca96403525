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
	function.Consumer
	TableName   string `env:"AUDIT_TABLE_NAME,required" doc:"the AuditMessages table"`
	Concurrency int    `env:"AUDIT_CONCURRENCY" default:"10" min:"1" max:"100" doc:"how many records of a batch are written at once"`
	// With the stack's 12 receives, about an hour before a record is
	// dead-lettered (terraform/stack/README.md, "Retry budget").
	BackoffBase time.Duration `env:"AUDIT_BACKOFF_BASE" default:"5s" doc:"visibility backoff of a record failing transiently, doubled per receive (the retry budget: terraform/stack/README.md)"`
	BackoffMax  time.Duration `env:"AUDIT_BACKOFF_MAX" default:"10m" doc:"the longest such backoff"`
}
