package tracing

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/aws/aws-xray-sdk-go/v2/daemoncfg"
	"github.com/aws/aws-xray-sdk-go/v2/strategy/ctxmissing"
	"github.com/aws/aws-xray-sdk-go/v2/strategy/sampling"
)

// Environment variables ConfigFromEnv reads. The AWS_XRAY_* ones mean what
// they mean to the X-Ray SDKs (Lambda sets AWS_XRAY_DAEMON_ADDRESS and
// AWS_XRAY_CONTEXT_MISSING).
const (
	EnvDaemonAddress  = "AWS_XRAY_DAEMON_ADDRESS"
	EnvContextMissing = "AWS_XRAY_CONTEXT_MISSING"
	EnvDisabled       = "AWS_XRAY_SDK_DISABLED"
	EnvTracingName    = "AWS_XRAY_TRACING_NAME"
	// EnvSampling is "centralized" (default: rules and quotas from X-Ray
	// through the daemon, local rules as fallback) or "local".
	EnvSampling = "OFFLOAD_XRAY_SAMPLING"
	// EnvSamplingRules is a local sampling rules document (X-Ray SDK format,
	// version 2): a file path, or the JSON itself when it starts with "{".
	EnvSamplingRules = "OFFLOAD_XRAY_SAMPLING_RULES"
)

// ConfigFromEnv reads the tracer's configuration from the environment and
// reports every problem at once:
//   - AWS_XRAY_DAEMON_ADDRESS ("host:port" or "tcp:host:port udp:host:port"),
//     default 127.0.0.1:2000;
//   - AWS_XRAY_CONTEXT_MISSING: LOG_ERROR (default) or IGNORE_ERROR;
//     RUNTIME_ERROR is read as LOG_ERROR, because a panic would end the
//     Lambda process;
//   - AWS_XRAY_SDK_DISABLED=true turns tracing off;
//   - AWS_XRAY_TRACING_NAME names service entries;
//   - OFFLOAD_XRAY_SAMPLING and OFFLOAD_XRAY_SAMPLING_RULES (see their
//     constants).
func ConfigFromEnv() (Config, error) {
	var cfg Config
	var errs []error
	if v := os.Getenv(EnvDisabled); v != "" {
		off, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %q: want true or false", EnvDisabled, v))
		}
		cfg.Disabled = off
	}
	d, err := daemoncfg.GetDaemonEndpointsFromEnv()
	if err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", EnvDaemonAddress, err))
	}
	if d == nil {
		d = daemoncfg.GetDefaultDaemonEndpoints()
	}
	cfg.Daemon = d
	switch v := strings.ToUpper(strings.TrimSpace(os.Getenv(EnvContextMissing))); v {
	case "", ctxmissing.LogErrorStrategy, ctxmissing.RuntimeErrorStrategy:
		cfg.ContextMissing = ctxmissing.NewDefaultLogErrorStrategy()
	case ctxmissing.IgnoreErrorStrategy:
		cfg.ContextMissing = ctxmissing.NewDefaultIgnoreErrorStrategy()
	default:
		errs = append(errs, fmt.Errorf("%s %q: want LOG_ERROR or IGNORE_ERROR", EnvContextMissing, v))
	}
	cfg.ServiceName = os.Getenv(EnvTracingName)
	var rules []byte
	if v := strings.TrimSpace(os.Getenv(EnvSamplingRules)); v != "" {
		if strings.HasPrefix(v, "{") {
			rules = []byte(v)
		} else if rules, err = os.ReadFile(v); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", EnvSamplingRules, err))
		}
	}
	mode := strings.ToLower(strings.TrimSpace(os.Getenv(EnvSampling)))
	if mode != "" && mode != "centralized" && mode != "local" {
		errs = append(errs, fmt.Errorf("%s %q: want centralized or local", EnvSampling, mode))
	}
	if len(errs) == 0 {
		s, err := NewSampling(mode == "local", rules, d)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", EnvSamplingRules, err))
		}
		cfg.Sampling = s
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, fmt.Errorf("tracing configuration: %w", err)
	}
	return cfg, nil
}

// NewSampling returns the SDK's sampling strategy: local rules only when
// local is true, else centralized (X-Ray's rules and quotas through the
// daemon d) with the local rules as fallback. rules is a local rules document
// (X-Ray SDK format); nil means the SDK's default (first request each second,
// then 5%).
func NewSampling(local bool, rules []byte, d *daemoncfg.DaemonEndpoints) (sampling.Strategy, error) {
	if local {
		if rules == nil {
			return sampling.NewLocalizedStrategy()
		}
		return sampling.NewLocalizedStrategyFromJSONBytes(rules)
	}
	var s *sampling.CentralizedStrategy
	var err error
	if rules == nil {
		s, err = sampling.NewCentralizedStrategy()
	} else {
		s, err = sampling.NewCentralizedStrategyWithJSONBytes(rules)
	}
	if err != nil {
		return nil, err
	}
	if d == nil {
		d = daemoncfg.GetDefaultDaemonEndpoints()
	}
	s.LoadDaemonEndpoints(d)
	return s, nil
}
