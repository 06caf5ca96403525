// Command offload-chaos is offload's seeded fault campaign (make chaos): it
// applies terraform/environments/local to the emulator at AWS_ENDPOINT_URL,
// runs the functions' bootstraps (dist/local, make build-local) in the local
// runtime with the sms-sender on a local Twilio-compatible fake, drives audit
// records and SMS requests while injecting the faults a schedule drawn from
// -seed names, and accounts for every request id (docs/reliability.md).
//
// Its last line is the verdict:
//
//	chaos: seed=<n> requests=<n> faults=<n> lost=<n> duplicate_effects=<n> stuck=<n> unreasoned_dead_letters=<n> unknown_outcomes=<n>
//
// and it exits 1 when lost, duplicate_effects, stuck or
// unreasoned_dead_letters is not 0 (2 when the campaign could not run).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/gruntwork-io/terratest/modules/logger"

	"github.com/offload/offload/test/chaos"
	"github.com/offload/offload/test/harness"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout))
}

func run(args []string, out io.Writer) int {
	fs := flag.NewFlagSet("offload-chaos", flag.ContinueOnError)
	seed := fs.Uint64("seed", chaos.DefaultSeed, "seed of the fault schedule (the same seed replays the same schedule)")
	nAudit := fs.Int("audit", 1000, "audit records to send")
	nSMS := fs.Int("sms", 300, "SMS requests to send")
	short := fs.Bool("short", false, fmt.Sprintf("short run for make test: %d audit + %d sms, every fault class at least once", chaos.ShortAudit, chaos.ShortSMS))
	timeout := fs.Duration("timeout", 9*time.Minute, "give up when the queues are not quiescent this long after the start")
	plan := fs.Bool("plan", false, "print the schedule's digest and injections, run nothing")
	verbose := fs.Bool("v", false, "show Terraform's output")
	fs.SetOutput(out)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *short {
		*nAudit, *nSMS = chaos.ShortAudit, chaos.ShortSMS
	}
	s := chaos.NewSchedule(*seed, *nAudit, *nSMS)
	fmt.Fprintf(out, "chaos: seed=%d schedule=%s requests=%d faults=%d\n", s.Seed, s.Digest(), len(s.Requests), len(s.Faults))
	inj := s.Injected()
	var parts []string
	for _, c := range chaos.Classes {
		parts = append(parts, fmt.Sprintf("%s=%d", c, inj[c]))
	}
	fmt.Fprintf(out, "chaos: injections %s\n", strings.Join(parts, " "))
	if *plan {
		return 0
	}
	if os.Getenv("AWS_ENDPOINT_URL") == "" {
		fmt.Fprintln(out, "chaos: AWS_ENDPOINT_URL is not set: run it through `make chaos` (it starts its own emulator)")
		return 2
	}
	if !*verbose {
		logger.Default = logger.Discard
	}
	repo, err := harness.RepoRoot()
	if err != nil {
		fmt.Fprintln(out, "chaos:", err)
		return 2
	}
	for _, fn := range []string{"audit-receiver", "sms-sender", "dlq-alarm-handler"} {
		if _, err := os.Stat(filepath.Join(repo, "dist", "local", fn, "bootstrap")); err != nil {
			fmt.Fprintf(out, "chaos: dist/local/%s/bootstrap is missing: run make build build-local first\n", fn)
			return 2
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	fmt.Fprintln(out, "chaos: applying environments/local and starting the local runtime")
	env, err := chaos.Up(repo, out)
	defer func() {
		if env != nil {
			if err := env.Down(); err != nil {
				fmt.Fprintln(out, "chaos: teardown:", err)
			}
		}
	}()
	if err != nil {
		fmt.Fprintln(out, "chaos: setup:", err)
		return 2
	}
	rep, err := chaos.Run(ctx, env, s, *timeout)
	if err != nil {
		fmt.Fprintln(out, "chaos:", err)
		if env.Stack != nil && env.Stack.RuntimeLog != "" {
			fmt.Fprintln(out, "chaos: runtime log:", env.Stack.RuntimeLog)
		}
		return 2
	}
	// The stack's work directory goes with it; keep the runtime log (every
	// function's log lines) for whoever has to explain a broken guarantee.
	kept := keepRuntimeLog(repo, env)
	if err := env.Down(); err != nil {
		fmt.Fprintln(out, "chaos: teardown:", err)
	}
	env = nil
	rep.Print(out)
	if rep.Failed() {
		if kept != "" {
			fmt.Fprintln(out, "chaos: runtime log kept in", kept)
		}
		return 1
	}
	return 0
}

// keepRuntimeLog copies the campaign's runtime log to .local/chaos-runtime.log
// and returns that path ("" when there is none or it cannot be copied).
func keepRuntimeLog(repo string, env *chaos.Env) string {
	if env.Stack == nil || env.Stack.RuntimeLog == "" {
		return ""
	}
	b, err := os.ReadFile(env.Stack.RuntimeLog)
	if err != nil {
		return ""
	}
	dst := filepath.Join(repo, ".local", "chaos-runtime.log")
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil || os.WriteFile(dst, b, 0o644) != nil {
		return ""
	}
	return dst
}
