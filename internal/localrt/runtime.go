package localrt

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// Runtime runs deployed functions locally and feeds them from their event
// sources. Build it with New, then call Run.
type Runtime struct {
	cfg     Config
	clients Clients
	sink    *logSink

	ready chan struct{}

	mu      sync.Mutex
	deploy  Deployment
	pools   map[string]*pool
	stopped bool
}

// New checks cfg (reporting every problem at once) and returns a Runtime
// that uses clients for every AWS call.
func New(cfg Config, clients Clients) (*Runtime, error) {
	cfg = cfg.withDefaults()
	var errs []error
	if err := cfg.validate(); err != nil {
		errs = append(errs, err)
	}
	if clients.Lambda == nil || clients.SQS == nil || clients.SNS == nil || clients.CloudWatch == nil {
		errs = append(errs, errors.New("every client (Lambda, SQS, SNS, CloudWatch) is required"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("local runtime config: %w", err)
	}
	return &Runtime{
		cfg:     cfg,
		clients: clients,
		sink:    &logSink{w: cfg.Logs},
		ready:   make(chan struct{}),
		pools:   map[string]*pool{},
	}, nil
}

// Ready is closed once Run has read the deployment and started polling.
func (r *Runtime) Ready() <-chan struct{} { return r.ready }

// Deployment returns what Run discovered (empty before Ready).
func (r *Runtime) Deployment() Deployment {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.deploy
}

// Run reads the deployment from the emulator, checks that every function's
// bootstrap exists, starts one poller per active SQS mapping and the alarm
// evaluator, and serves until ctx is done. It then stops every execution
// environment and returns once their processes have exited.
func (r *Runtime) Run(ctx context.Context) error {
	log := r.cfg.Logger
	d, err := Discover(ctx, r.clients.Lambda, r.cfg.Functions)
	if err != nil {
		return err
	}
	var missing []error
	for _, fn := range d.Functions {
		if _, err := os.Stat(Bootstrap(r.cfg.BinDir, fn)); err != nil {
			missing = append(missing, fmt.Errorf("function %s: bootstrap %s: %w (run `make build-local`)", fn.Name, Bootstrap(r.cfg.BinDir, fn), err))
		}
	}
	if err := errors.Join(missing...); err != nil {
		return err
	}
	r.mu.Lock()
	r.deploy = d
	for _, fn := range d.Functions {
		r.pools[fn.Name] = newPool(fn, r.cfg, r.sink)
	}
	r.mu.Unlock()
	defer r.stop()

	var wg sync.WaitGroup
	defer wg.Wait()
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()

	for _, fn := range d.Functions {
		log.Info("function", "name", fn.Name, "folder", fn.Folder, "timeout", fn.Timeout, "memory_mb", fn.MemoryMB, "local_runtime", fn.LocalRuntime)
	}
	for _, m := range d.Mappings {
		fn, _ := d.Function(m.Function)
		if !fn.LocalRuntime && m.State != "Enabled" {
			log.Info("mapping not polled", "function", m.Function, "queue", m.QueueARN, "state", m.State)
			continue
		}
		p, err := r.newPoller(runCtx, m)
		if err != nil {
			return err
		}
		log.Info("polling", "function", m.Function, "queue", m.QueueARN, "batch_size", m.BatchSize,
			"window", m.Window, "report_batch_item_failures", m.ReportBatchItemFailures, "max_concurrency", p.maxConc)
		wg.Go(func() { p.run(runCtx) })
	}
	if r.cfg.AlarmPeriod >= 0 {
		ev := &alarmEvaluator{rt: r, period: r.cfg.AlarmPeriod, mode: r.cfg.MetricMode, log: log, state: map[string]*alarmHistory{}, lastEval: map[string]time.Time{}}
		wg.Go(func() { ev.run(runCtx) })
	}
	close(r.ready)
	<-ctx.Done()
	cancel()
	return nil
}

func (r *Runtime) newPoller(ctx context.Context, m Mapping) (*poller, error) {
	// arn:aws:sqs:region:account:name
	parts := strings.Split(m.QueueARN, ":")
	in := &sqs.GetQueueUrlInput{QueueName: aws.String(queueNameFromARN(m.QueueARN))}
	if len(parts) == 6 && parts[4] != "" {
		in.QueueOwnerAWSAccountId = aws.String(parts[4])
	}
	out, err := r.clients.SQS.GetQueueUrl(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("queue URL of %s (mapping %s): %w", m.QueueARN, m.UUID, err)
	}
	conc := m.MaxConcurrency
	if conc <= 0 {
		conc = r.cfg.DefaultMaxConcurrency
	}
	r.mu.Lock()
	pl := r.pools[m.Function]
	r.mu.Unlock()
	return &poller{
		m: m, pool: pl, sqs: r.clients.SQS, region: r.cfg.Region, queueURL: aws.ToString(out.QueueUrl),
		wait: r.cfg.PollWait, maxConc: conc, log: r.cfg.Logger,
	}, nil
}

// Invoke runs one event synchronously in the named function (name or ARN),
// like Lambda's RequestResponse invoke. traceHeader may be empty (a new trace
// is started).
func (r *Runtime) Invoke(ctx context.Context, function string, payload []byte, traceHeader string) (Result, error) {
	r.mu.Lock()
	pl := r.pools[functionNameFromARN(function)]
	r.mu.Unlock()
	if pl == nil {
		return Result{}, fmt.Errorf("invoke %s: not a function this runtime runs", function)
	}
	if traceHeader == "" {
		traceHeader = newTraceHeader()
	}
	return pl.invoke(ctx, payload, traceHeader)
}

// runs reports whether the runtime runs the named function (name or ARN).
func (r *Runtime) runs(function string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.pools[functionNameFromARN(function)] != nil
}

func (r *Runtime) stop() {
	r.mu.Lock()
	r.stopped = true
	pools := make([]*pool, 0, len(r.pools))
	for _, p := range r.pools {
		pools = append(pools, p)
	}
	r.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range pools {
		wg.Go(p.close)
	}
	wg.Wait()
}
