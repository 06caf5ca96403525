// Command offload-local is the local Lambda runtime: it runs the functions
// that Terraform deployed into the local emulator, feeds them from their SQS
// event source mappings, evaluates the SQS alarms and delivers their
// notifications, with the X-Ray daemon alongside (internal/localrt).
//
//	offload-local [--bin-dir dist/local] [--functions a,b] [--trace-daemon on|off] …
//
// It reads everything else from the emulator named by AWS_ENDPOINT_URL, and
// refuses to start without one unless --allow-no-endpoint is given. SIGINT
// or SIGTERM stops every process it started.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/offload/offload/internal/localrt"
	"github.com/offload/offload/internal/sdkconfig"
	"github.com/offload/offload/pkg/logging"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := realMain(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "offload-local:", err)
		os.Exit(1)
	}
}

type options struct {
	binDir, region, functions, alarmPrefix, traceDaemon, xrayDaemon, readyFile, logLevel string
	metricMode                                                                           string
	pollWait, alarmPeriod                                                                time.Duration
	maxConcurrency, measureInit, envConcurrency                                          int
	clockScale                                                                           float64
	allowNoEndpoint                                                                      bool
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("offload-local", flag.ContinueOnError)
	fs.StringVar(&o.binDir, "bin-dir", localrt.DefaultBinDir, "directory holding <function folder>/bootstrap (make build-local)")
	fs.StringVar(&o.region, "region", envOr("AWS_REGION", "us-east-1"), "region of the deployment")
	fs.DurationVar(&o.pollWait, "poll-interval", localrt.DefaultPollWait, "long-poll wait of each SQS receive (whole seconds, ≤ 20s)")
	fs.DurationVar(&o.alarmPeriod, "alarm-period", 0, "evaluate alarms this often (0: each alarm's own period; negative: never)")
	fs.StringVar(&o.functions, "functions", "", "comma-separated function names or folders to run (default: every tagged function)")
	fs.StringVar(&o.alarmPrefix, "alarm-prefix", "", "evaluate only alarms whose names start with this (default: all)")
	fs.StringVar(&o.traceDaemon, "trace-daemon", "on", "start the X-Ray daemon in local mode: on or off")
	fs.StringVar(&o.xrayDaemon, "xray-daemon", "bin/xray-daemon", "path of the X-Ray daemon binary (make xray-daemon)")
	fs.IntVar(&o.maxConcurrency, "max-concurrency", localrt.DefaultMaxConcurrency, "concurrency of SQS mappings without ScalingConfig.MaximumConcurrency")
	fs.IntVar(&o.envConcurrency, "environment-concurrency", 0, "above 1: every execution environment serves this many invokes at once (sets AWS_LAMBDA_MAX_CONCURRENCY, as Lambda Managed Instances do)")
	fs.StringVar(&o.readyFile, "ready-file", "", "write this file once every function is discovered and polling has started (with xray_daemon_address=host:port)")
	fs.StringVar(&o.logLevel, "log-level", "info", "runtime log level: debug, info, warn, error")
	fs.IntVar(&o.measureInit, "measure-init", 0, "instead of serving: cold-start every function (and the hello-world bootstrap in <bin-dir>/_baseline/hello, when built) this many times and print the median init durations")
	fs.StringVar(&o.metricMode, "metrics", localrt.MetricModeFast, "AWS/SQS metrics for alarms: fast (a sample a second, faster than AWS) or faithful (one datapoint a minute, as SQS publishes them)")
	fs.Float64Var(&o.clockScale, "clock-scale", 1, "scale AWS's wall-clock schedules (async retry delays and event age, the faithful metric minute) by this factor in (0, 1]; 1 runs them as AWS does")
	fs.BoolVar(&o.allowNoEndpoint, "allow-no-endpoint", false, "run without AWS_ENDPOINT_URL (functions then reach real AWS endpoints)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	var errs []error
	if o.traceDaemon != "on" && o.traceDaemon != "off" {
		errs = append(errs, fmt.Errorf("--trace-daemon must be on or off, not %q", o.traceDaemon))
	}
	if fs.NArg() > 0 {
		errs = append(errs, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " ")))
	}
	return o, errors.Join(errs...)
}

func realMain(ctx context.Context, args []string) error {
	o, err := parseFlags(args)
	if err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	logger := slog.New(logging.NewSlogHandler(os.Stderr, level)) // masked like the functions' logs

	endpoint := os.Getenv("AWS_ENDPOINT_URL")
	if endpoint == "" && !o.allowNoEndpoint {
		return errors.New("AWS_ENDPOINT_URL is not set: offload-local runs functions against a local emulator (make run sets it); pass --allow-no-endpoint to run against real AWS endpoints")
	}
	awsCfg, err := sdkconfig.Load(ctx, config.WithRegion(o.region))
	if err != nil {
		return fmt.Errorf("load AWS config: %w", err)
	}
	creds, err := awsCfg.Credentials.Retrieve(ctx)
	if err != nil {
		return fmt.Errorf("AWS credentials: %w", err)
	}

	cfg := localrt.Config{
		Region: o.region, Endpoint: endpoint,
		AccessKeyID: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey, SessionToken: creds.SessionToken,
		BinDir: o.binDir, PollWait: o.pollWait, AlarmPeriod: o.alarmPeriod, AlarmNamePrefix: o.alarmPrefix,
		DefaultMaxConcurrency: o.maxConcurrency, EnvironmentConcurrency: o.envConcurrency, ClockScale: o.clockScale, MetricMode: o.metricMode, Logs: os.Stdout, Logger: logger,
	}
	if o.functions != "" {
		cfg.Functions = strings.Split(o.functions, ",")
	}
	clients := localrt.NewClients(awsCfg)
	if o.measureInit > 0 {
		return measureInit(ctx, cfg, clients, o.measureInit, os.Stdout)
	}
	if o.traceDaemon == "on" {
		d, err := localrt.StartTraceDaemon(o.xrayDaemon, endpoint, o.region, os.Stdout)
		if err != nil {
			return err
		}
		defer d.Stop()
		cfg.TraceDaemonAddress = d.Addr
		logger.Info("X-Ray daemon", "address", d.Addr, "endpoint", endpoint)
	}
	rt, err := localrt.New(cfg, clients)
	if err != nil {
		return err
	}
	go func() {
		select {
		case <-rt.Ready():
		case <-ctx.Done():
			return
		}
		d := rt.Deployment()
		logger.Info("ready", "functions", len(d.Functions), "mappings", len(d.Mappings), "bin_dir", o.binDir)
		if o.readyFile != "" {
			content := "ready\n"
			if cfg.TraceDaemonAddress != "" {
				content += "xray_daemon_address=" + cfg.TraceDaemonAddress + "\n"
			}
			if err := os.WriteFile(o.readyFile, []byte(content), 0o644); err != nil {
				logger.Error("write ready file", "path", o.readyFile, "error", err)
			}
		}
	}()
	if err := rt.Run(ctx); err != nil {
		return err
	}
	logger.Info("stopped")
	return nil
}

// measureInit prints each deployed function's median cold-start init
// duration next to a hello-world Go bootstrap's, measured in the same run.
func measureInit(ctx context.Context, cfg localrt.Config, clients localrt.Clients, n int, w io.Writer) error {
	d, err := localrt.Discover(ctx, clients.Lambda, cfg.Functions)
	if err != nil {
		return err
	}
	fns := d.Functions
	baseline := localrt.Function{Name: "hello-world", Folder: "hello", Timeout: 3 * time.Second, MemoryMB: 128}
	baseCfg := cfg
	baseCfg.BinDir = filepath.Join(cfg.BinDir, "_baseline")
	var base time.Duration
	if _, err := os.Stat(localrt.Bootstrap(baseCfg.BinDir, baseline)); err == nil {
		ds, err := localrt.MeasureInit(ctx, baseCfg, baseline, n)
		if err != nil {
			return err
		}
		base = localrt.Median(ds)
		fmt.Fprintf(w, "%-36s %10s   (%d cold starts)\n", "hello-world (baseline)", base.Round(10*time.Microsecond), n)
	}
	var worst time.Duration
	for _, fn := range fns {
		ds, err := localrt.MeasureInit(ctx, cfg, fn, n)
		if err != nil {
			return err
		}
		m := localrt.Median(ds)
		worst = max(worst, m)
		line := fmt.Sprintf("%-36s %10s", fn.Name, m.Round(10*time.Microsecond))
		if base > 0 {
			line += fmt.Sprintf("   %+8s vs hello-world (x%.2f)", (m - base).Round(10*time.Microsecond), float64(m)/float64(base))
		}
		fmt.Fprintln(w, line)
	}
	if base > 0 && worst > 0 {
		fmt.Fprintln(w, initSummary(base, worst))
	}
	return nil
}

// initSummary is measure-init's last line: the hello-world bootstrap's
// median init, the slowest function's median init and their ratio, all
// from the same run (docs/performance.md, "Cold starts").
func initSummary(hello, worst time.Duration) string {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	return fmt.Sprintf("init: hello_ms=%.2f worst_ms=%.2f ratio=%.2f", ms(hello), ms(worst), float64(worst)/float64(hello))
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
