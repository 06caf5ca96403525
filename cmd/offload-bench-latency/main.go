// Command offload-bench-latency is `make bench-latency` (scripts/bench-latency.sh
// starts the emulator and builds the binaries): it starts the example
// service and the Twilio stand-in against the emulator at AWS_ENDPOINT_URL,
// measures each write endpoint's client-side latency under the same
// open-loop load (internal/latencybench), and prints p50 / p99 / p99.9 per
// endpoint, the goals, and last the line
//
//	latency: audit_async_p50_ms=<x> audit_async_p99_ms=<x> audit_durable_p99_ms=<x> audit_sync_p99_ms=<x> sms_enqueue_p99_ms=<x> sms_sync_p99_ms=<x>
//
// It exits 1 when a goal is missed or a request failed (the line is still
// printed), 2 when the run itself failed.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/offload/offload/internal/latencybench"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	var c latencybench.Config
	flag.StringVar(&c.ServiceBin, "service-bin", "bin/example-service", "the built cmd/example-service")
	flag.StringVar(&c.TwilioFakeBin, "twilio-fake-bin", "bin/offload-twilio-fake", "the built cmd/offload-twilio-fake")
	flag.IntVar(&c.Requests, "n", 2000, "measured requests per endpoint")
	flag.IntVar(&c.Warmup, "warmup", 200, "unmeasured requests per endpoint before")
	flag.Float64Var(&c.Rate, "rate", 100, "arrival rate per endpoint, requests per second (Poisson)")
	flag.DurationVar(&c.SMSMedian, "sms-median", 250*time.Millisecond, "the Twilio stand-in's median latency")
	flag.DurationVar(&c.SMSP99, "sms-p99", 1500*time.Millisecond, "the Twilio stand-in's 99th-percentile latency")
	flag.StringVar(&c.LogDir, "log-dir", ".local", "where the service's and the stand-in's logs go")
	flag.Uint64Var(&c.Seed, "seed", 1, "seed of the request mix and the arrival times")
	only := flag.String("only", "", "comma-separated endpoints to measure (floor,audit_async,audit_durable,audit_sync,sms_enqueue,sms_sync; default all)")
	serviceArgs := flag.String("service-args", "", "extra flags for the example service, space-separated (e.g. --cpuprofile .local/service.pprof)")
	noFloor := flag.Bool("no-floor", false, "do not measure the floor (a net/http server that only answers) before the endpoints")
	floorAddr := flag.String(latencybench.FloorFlag, "", "serve the floor on this address instead of measuring (the bench starts itself so)")
	flag.Parse()
	if *floorAddr != "" {
		if err := latencybench.ServeFloor(ctx, *floorAddr); err != nil {
			fmt.Fprintln(os.Stderr, "bench-latency floor:", err)
			os.Exit(2)
		}
		return
	}
	if !*noFloor {
		exe, err := os.Executable()
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench-latency:", err)
			os.Exit(2)
		}
		c.FloorBin = exe
	}
	if *only != "" {
		c.Only = strings.Split(*only, ",")
	}
	c.ServiceArgs = strings.Fields(*serviceArgs)

	res, err := latencybench.Run(ctx, c, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench-latency:", err)
		os.Exit(2)
	}
	lines, gerr := res.Goals()
	for _, l := range lines {
		fmt.Println(l)
	}
	if gerr != nil {
		fmt.Fprintln(os.Stderr, "bench-latency:", gerr)
	}
	fmt.Println(res.LastLine())
	if gerr != nil {
		os.Exit(1)
	}
}
