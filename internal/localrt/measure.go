package localrt

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"
)

// MeasureInit cold-starts fn n times, one after another, each time only up to
// the end of init (the runtime's first request for an event), and returns the
// init durations in order. The function gets the environment it gets when it
// runs (cfg and its deployed variables). It is how a function's init cost is
// compared with a hello-world bootstrap's.
func MeasureInit(ctx context.Context, cfg Config, fn Function, n int) ([]time.Duration, error) {
	cfg = cfg.withDefaults()
	sink := &logSink{w: io.Discard}
	out := make([]time.Duration, 0, n)
	for range n {
		env := newEnvironment(fn, cfg, sink)
		if err := env.start(); err != nil {
			return out, err
		}
		if fe := env.awaitInit(ctx, cfg.InitTimeout, "init"); fe != nil {
			return out, fmt.Errorf("init of %s: %w", fn.Name, fe)
		}
		out = append(out, env.api.readyAt.Sub(env.startedAt))
		env.kill()
	}
	return out, nil
}

// Median returns the median of ds (0 for none).
func Median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
