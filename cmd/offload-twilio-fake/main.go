// Command offload-twilio-fake serves internal/twiliofake, a Twilio-compatible
// Messages API, for the example service's POST /sms/sync in `make run` and
// `make bench-latency`. Every answer waits a delay drawn from a log-normal
// distribution (--median, --p99; docs/performance.md says where the
// defaults come from), as a real provider's API takes time to answer.
//
// The account SID comes from --account-sid, the auth token from the
// TWILIO_FAKE_AUTH_TOKEN environment variable (never a flag: it would show in
// the process list). It serves on --addr until SIGTERM or SIGINT, then prints
// how many messages it accepted.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/offload/offload/internal/twiliofake"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "offload-twilio-fake:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("offload-twilio-fake", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	sid := fs.String("account-sid", "ACfake", "the account SID it accepts")
	median := fs.Duration("median", 250*time.Millisecond, "median answer latency")
	p99 := fs.Duration("p99", 1500*time.Millisecond, "99th-percentile answer latency")
	capAt := fs.Duration("max", 10*time.Second, "longest answer latency (a draw beyond is cut to it)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	token := os.Getenv("TWILIO_FAKE_AUTH_TOKEN")
	if token == "" {
		return errors.New("TWILIO_FAKE_AUTH_TOKEN is required")
	}
	var latency func() time.Duration
	if *median > 0 {
		var err error
		if latency, err = twiliofake.LogNormal(*median, *p99, *capAt); err != nil {
			return err
		}
	}
	s, err := twiliofake.Start(twiliofake.Options{AccountSID: *sid, AuthToken: token, Addr: *addr, Latency: latency, KeepAccepted: 1000})
	if err != nil {
		return err
	}
	fmt.Printf("offload-twilio-fake listening on %s (latency median %s, p99 %s, max %s)\n", s.URL, *median, *p99, *capAt)
	<-ctx.Done()
	n := s.Requests()
	if err := s.Close(); err != nil {
		return err
	}
	fmt.Printf("offload-twilio-fake stopped after %d message requests\n", n)
	return nil
}
