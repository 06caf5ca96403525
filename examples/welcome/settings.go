package main

import (
	"time"

	"github.com/offload/offload/internal/function"
)

// settings is the consumer's configuration, read from the environment by
// function.Main (tags parsed by internal/envconfig). Common and Consumer are
// what every function and every queue consumer read; the rest is welcome's
// own, named with its prefix. The table in docs/development.md
// ("settings:welcome") is generated from these tags. welcome is not in
// terraform/stack, so no env-contract test (stackenv.CheckFunction) holds
// these variables to the stack the way the functions' are held.
type settings struct {
	function.Common
	function.Consumer
	Concurrency int `env:"WELCOME_CONCURRENCY" default:"4" min:"1" max:"100" doc:"how many records of a batch are welcomed at once"`
	// WELCOME_BACKOFF is the queue's backoff_env, had it one in
	// terraform/stack/queues.tf: the stack would set both from the queue.
	BackoffBase time.Duration `env:"WELCOME_BACKOFF_BASE" default:"5s" doc:"visibility backoff of a record failing transiently, doubled per receive"`
	BackoffMax  time.Duration `env:"WELCOME_BACKOFF_MAX" default:"10m" doc:"the longest such backoff"`
}
