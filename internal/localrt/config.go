package localrt

import (
	"errors"
	"io"
	"log/slog"
	"os"
	"time"
)

// Defaults of Config fields left zero.
const (
	DefaultBinDir         = "dist/local"
	DefaultPollWait       = time.Second
	DefaultMaxConcurrency = 5
	DefaultInitTimeout    = 10 * time.Second
	DefaultMaxEnvs        = 10
)

// Tags the runtime reads on deployed functions (docs/development.md, "Local
// runtime contract").
const (
	// TagFunction names the folder under functions/ whose bootstrap runs for
	// the function.
	TagFunction = "offload:function"
	// TagLocalRuntime = "enabled" makes the runtime poll the function's event
	// source mappings even though they are deployed disabled.
	TagLocalRuntime = "offload:local-runtime"
)

// Config configures a Runtime. Zero fields take the defaults stated per field.
type Config struct {
	// Region is the deployment's region: the functions' AWS_REGION and the
	// events' awsRegion. Required.
	Region string
	// Endpoint is passed to every function as AWS_ENDPOINT_URL (the emulator).
	// Empty passes none.
	Endpoint string
	// AccessKeyID, SecretAccessKey and SessionToken are the credentials passed
	// to functions. Default: "test" / "test" / none.
	AccessKeyID, SecretAccessKey, SessionToken string
	// BinDir holds <folder>/bootstrap for each function. Default dist/local.
	BinDir string
	// PollWait is the long-poll wait of each SQS receive (whole seconds,
	// at most 20). Default 1s.
	PollWait time.Duration
	// AlarmPeriod is how often alarms are evaluated; one evaluation stands for
	// one alarm period. Zero (the default) evaluates each alarm every its own
	// Period, as CloudWatch does; a positive value overrides every alarm's
	// period (tests); negative disables alarm evaluation.
	AlarmPeriod time.Duration
	// Functions limits the runtime to these functions (deployed names or
	// offload:function folders). Empty: every tagged function.
	Functions []string
	// AlarmNamePrefix limits alarm evaluation to alarms whose names start
	// with it (a stack's name prefix). Empty: every alarm.
	AlarmNamePrefix string
	// TraceDaemonAddress is passed to functions as AWS_XRAY_DAEMON_ADDRESS
	// (host:port of the X-Ray daemon). Empty passes none.
	TraceDaemonAddress string
	// DefaultMaxConcurrency applies to SQS mappings without
	// ScalingConfig.MaximumConcurrency. Default 5 (AWS scales far higher;
	// locally a handful keeps a laptop responsive).
	DefaultMaxConcurrency int
	// MaxEnvironments caps the execution environments of one function across
	// all its event sources. Default 10.
	MaxEnvironments int
	// EnvironmentConcurrency, above 1, runs every function as Lambda Managed
	// Instances do: each execution environment gets AWS_LAMBDA_MAX_CONCURRENCY
	// set to it (unless the function sets its own) and serves that many
	// invokes at once. Default 0: one invoke per environment.
	EnvironmentConcurrency int
	// InitTimeout bounds a cold start (Lambda's 10 s init limit). Default 10s.
	// A timed-out init is retried once at the first invoke, bounded by the
	// function timeout, as Lambda does.
	InitTimeout time.Duration
	// MetricMode is how AWS/SQS metrics are produced for alarms:
	// MetricModeFast (the default: a sample a second, faster than AWS) or
	// MetricModeFaithful (one datapoint a minute, as SQS publishes them).
	MetricMode string
	// ClockScale multiplies the wall-clock schedules the runtime reproduces
	// from AWS: asynchronous invoke retry delays (1 and 2 min) and the
	// maximum event age, and the faithful metric mode's minute. 0 (the
	// default) and 1 run them as AWS does; tests run them scaled down
	// (0.01: a minute lasts 600 ms). Must be in (0, 1] when set.
	ClockScale float64
	// Logs receives the functions' output and the START/END/REPORT lines,
	// one line at a time with the function's prefix. Default os.Stdout.
	Logs io.Writer
	// Logger receives the runtime's own structured events. Default: slog's
	// default logger.
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.AccessKeyID == "" && c.SecretAccessKey == "" {
		c.AccessKeyID, c.SecretAccessKey = "test", "test"
	}
	if c.BinDir == "" {
		c.BinDir = DefaultBinDir
	}
	if c.PollWait == 0 {
		c.PollWait = DefaultPollWait
	}
	if c.DefaultMaxConcurrency == 0 {
		c.DefaultMaxConcurrency = DefaultMaxConcurrency
	}
	if c.MaxEnvironments == 0 {
		c.MaxEnvironments = DefaultMaxEnvs
	}
	if c.InitTimeout == 0 {
		c.InitTimeout = DefaultInitTimeout
	}
	if c.MetricMode == "" {
		c.MetricMode = MetricModeFast
	}
	if c.ClockScale == 0 {
		c.ClockScale = 1
	}
	if c.Logs == nil {
		c.Logs = os.Stdout
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// validate reports every problem at once.
func (c Config) validate() error {
	var errs []error
	if c.Region == "" {
		errs = append(errs, errors.New("config: Region is required"))
	}
	if c.PollWait < 0 || c.PollWait > 20*time.Second {
		errs = append(errs, errors.New("config: PollWait must be between 0 and 20s"))
	}
	if c.DefaultMaxConcurrency < 1 {
		errs = append(errs, errors.New("config: DefaultMaxConcurrency must be at least 1"))
	}
	if c.MaxEnvironments < 1 {
		errs = append(errs, errors.New("config: MaxEnvironments must be at least 1"))
	}
	if c.EnvironmentConcurrency < 0 {
		errs = append(errs, errors.New("config: EnvironmentConcurrency must not be negative"))
	}
	if c.InitTimeout < 0 {
		errs = append(errs, errors.New("config: InitTimeout must not be negative"))
	}
	if c.MetricMode != MetricModeFast && c.MetricMode != MetricModeFaithful {
		errs = append(errs, errors.New("config: MetricMode must be fast or faithful"))
	}
	if c.ClockScale < 0 || c.ClockScale > 1 {
		errs = append(errs, errors.New("config: ClockScale must be in (0, 1]"))
	}
	if c.AccessKeyID == "" || c.SecretAccessKey == "" {
		errs = append(errs, errors.New("config: AccessKeyID and SecretAccessKey must both be set"))
	}
	return errors.Join(errs...)
}
