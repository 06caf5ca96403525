// Command example-service is a user-facing HTTP service that offloads slow
// work, the producer side of offload (and of the article):
//
//	POST /audit            {"auditText": …, "auditTime"?: …, "messageId"?: …} → 202 once in the audit publisher's buffer
//	POST /audit?durable=1  the same, 202 only once SQS accepted the message
//	POST /audit/sync       the same audit record written to DynamoDB before answering, for comparison
//	POST /sms              {"requestId": …, "to": "+E.164", "body": …, "senderId"?: …, "region"?: …} → 202 once on the SMS queue
//	POST /sms/sync         the same request sent to the SMS provider (Twilio's API) before answering, for comparison
//	GET  /healthz
//
// /audit answers before SQS has the record: a producer.AsyncPublisher
// buffers it (bounded; full → 503 with Retry-After) and sends batches in the
// background, and SIGTERM or SIGINT flushes the buffer before the process
// exits. A crash (SIGKILL, out of memory, the host) loses what is buffered,
// at most --audit-buffer records or --audit-flush-interval of them; clients
// that cannot accept that ask for ?durable=1.
//
// Every POST needs an API key in the X-API-Key header (401 without, 403 for
// an unknown one); the keys are read from a Secrets Manager secret
// ({"keys":[{"id":…,"key":…,"expires"?:…}]}) and reloaded every minute, so
// they rotate without a restart. Each key has a token-bucket rate limit (429
// with Retry-After). /sms and /sms/sync need an idempotency key: requestId,
// or the Idempotency-Key header (400 without; the service never invents
// one). A body over the limit, or a message over the queue's, is 413.
//
// Configuration comes from flags or the environment (AUDIT_QUEUE_URL,
// SMS_QUEUE_URL, AUDIT_TABLE_NAME, EXAMPLE_SERVICE_ADDR,
// EXAMPLE_SERVICE_API_KEYS_SECRET, EXAMPLE_SERVICE_RATE, EXAMPLE_SERVICE_BURST,
// TWILIO_SECRET_ARN, TWILIO_API_URL; see --help); AWS from the standard SDK
// environment. SIGTERM or SIGINT stops accepting connections, drains the
// requests in flight and flushes the audit buffer before exiting. Requests
// are traced with X-Ray when AWS_XRAY_DAEMON_ADDRESS is set, and the trace
// continues into the functions through AWSTraceHeader.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/offload/offload/internal/sdkconfig"
	"github.com/offload/offload/pkg/audit"
	"github.com/offload/offload/pkg/idempotency"
	"github.com/offload/offload/pkg/logging"
	"github.com/offload/offload/pkg/message"
	"github.com/offload/offload/pkg/producer"
	"github.com/offload/offload/pkg/sms"
	"github.com/offload/offload/pkg/tracing"
	"github.com/offload/offload/pkg/tracing/tracinghttp"
)

func main() {
	ctx, stop := shutdownSignals()
	defer stop()
	if err := realMain(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "example-service:", err)
		os.Exit(1)
	}
}

// shutdownSignals is the context main runs the service in: SIGTERM (a
// deploy, the orchestrator) or SIGINT ends it, and the service drains and
// flushes before it returns.
func shutdownSignals() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
}

type settings struct {
	addr, auditQueueURL, smsQueueURL, auditTable string
	// maxMessageBytes is the queues' MaximumMessageSize: the producers
	// refuse larger bodies before calling SQS.
	maxMessageBytes int
	// apiKeysSecret names the Secrets Manager secret holding the API keys;
	// keysRefresh is how often it is read again.
	apiKeysSecret string
	keysRefresh   time.Duration
	// rate and burst are each API key's token bucket.
	rate  float64
	burst int
	// shutdownTimeout bounds how long in-flight requests may drain, and
	// then how long the audit buffer may take to flush.
	shutdownTimeout time.Duration
	// auditBuffer and auditFlushInterval bound what POST /audit holds in
	// memory before SQS has it: at most auditBuffer records, each sent
	// within auditFlushInterval (sooner when ten are waiting).
	auditBuffer        int
	auditFlushInterval time.Duration
	// twilioSecret names the Secrets Manager secret with the Twilio
	// credentials for POST /sms/sync (sms-sender's format); twilioURL
	// replaces Twilio's API base URL (the local stand-in). Without a
	// secret, /sms/sync answers 501.
	twilioSecret, twilioURL string
	// cpuProfile, when set, receives a CPU profile of the whole run
	// (written at shutdown), for profiling the request path.
	cpuProfile string
	// logLevel is the lowest level logged (debug adds a line per buffered
	// audit record).
	logLevel slog.Level
}

// Server limits. WriteTimeout leaves the request timeout room to answer.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 15 * time.Second
	writeTimeout      = 30 * time.Second
	idleTimeout       = 60 * time.Second
	requestTimeout    = 25 * time.Second
	maxHeaderBytes    = 16 << 10
)

func parseFlags(args []string) (settings, error) {
	var s settings
	fs := flag.NewFlagSet("example-service", flag.ContinueOnError)
	fs.StringVar(&s.addr, "addr", envOr("EXAMPLE_SERVICE_ADDR", "127.0.0.1:8080"), "listen address")
	fs.StringVar(&s.auditQueueURL, "audit-queue-url", os.Getenv("AUDIT_QUEUE_URL"), "audit queue URL")
	fs.StringVar(&s.smsQueueURL, "sms-queue-url", os.Getenv("SMS_QUEUE_URL"), "SMS queue URL")
	fs.StringVar(&s.auditTable, "audit-table", os.Getenv("AUDIT_TABLE_NAME"), "AuditMessages table (for POST /audit/sync)")
	defMax, _ := strconv.Atoi(envOr("MAX_MESSAGE_BYTES", "262144"))
	fs.IntVar(&s.maxMessageBytes, "max-message-bytes", defMax, "the queues' MaximumMessageSize (the stack's queue_max_message_size output)")
	fs.StringVar(&s.apiKeysSecret, "api-keys-secret", os.Getenv("EXAMPLE_SERVICE_API_KEYS_SECRET"),
		`Secrets Manager secret (name or ARN) with the API keys: {"keys":[{"id":"k1","key":"…"}]}`)
	fs.DurationVar(&s.keysRefresh, "api-keys-refresh", time.Minute, "how often the API keys secret is read again (rotation)")
	defRate, _ := strconv.ParseFloat(envOr("EXAMPLE_SERVICE_RATE", "5"), 64)
	fs.Float64Var(&s.rate, "rate", defRate, "requests per second per API key (token bucket refill)")
	defBurst, _ := strconv.Atoi(envOr("EXAMPLE_SERVICE_BURST", "10"))
	fs.IntVar(&s.burst, "burst", defBurst, "requests per API key at once (token bucket size)")
	fs.DurationVar(&s.shutdownTimeout, "shutdown-timeout", 25*time.Second, "how long in-flight requests may take to drain on SIGTERM (and then the audit buffer to flush)")
	fs.IntVar(&s.auditBuffer, "audit-buffer", 1000, "POST /audit: records buffered in memory before SQS has them (full: 503 with Retry-After)")
	fs.DurationVar(&s.auditFlushInterval, "audit-flush-interval", 100*time.Millisecond, "POST /audit: the longest a buffered record waits before it is sent")
	fs.StringVar(&s.twilioSecret, "twilio-secret", os.Getenv("TWILIO_SECRET_ARN"),
		`Secrets Manager secret with Twilio credentials for POST /sms/sync: {"account_sid","auth_token","from"} (optional)`)
	fs.TextVar(&s.logLevel, "log-level", levelOr("EXAMPLE_SERVICE_LOG_LEVEL", slog.LevelInfo), "lowest level logged: debug, info, warn, error (EXAMPLE_SERVICE_LOG_LEVEL)")
	fs.StringVar(&s.cpuProfile, "cpuprofile", "", "write a CPU profile of the run to this file at shutdown (go tool pprof)")
	fs.StringVar(&s.twilioURL, "twilio-url", os.Getenv("TWILIO_API_URL"), "Twilio API base URL (default Twilio's; the local stand-in in make run)")
	if err := fs.Parse(args); err != nil {
		return s, err
	}
	var errs []error
	for name, v := range map[string]string{"--audit-queue-url (AUDIT_QUEUE_URL)": s.auditQueueURL, "--sms-queue-url (SMS_QUEUE_URL)": s.smsQueueURL,
		"--audit-table (AUDIT_TABLE_NAME)": s.auditTable, "--api-keys-secret (EXAMPLE_SERVICE_API_KEYS_SECRET)": s.apiKeysSecret} {
		if v == "" {
			errs = append(errs, fmt.Errorf("%s is required", name))
		}
	}
	if s.rate <= 0 || s.burst < 1 {
		errs = append(errs, errors.New("--rate must be positive and --burst at least 1"))
	}
	if s.keysRefresh <= 0 || s.shutdownTimeout <= 0 || s.auditFlushInterval <= 0 {
		errs = append(errs, errors.New("--api-keys-refresh, --shutdown-timeout and --audit-flush-interval must be positive"))
	}
	if s.auditBuffer < 10 {
		errs = append(errs, errors.New("--audit-buffer must be at least 10 (one SendMessageBatch)"))
	}
	return s, errors.Join(errs...)
}

func realMain(ctx context.Context, args []string) (err error) {
	s, err := parseFlags(args)
	if err != nil {
		return err
	}
	log := slog.New(logging.NewSlogHandler(os.Stderr, s.logLevel)).With("service", "example-service") // masked like the functions' logs
	if s.cpuProfile != "" {
		f, perr := os.Create(s.cpuProfile)
		if perr != nil {
			return fmt.Errorf("cpu profile: %w", perr)
		}
		if perr := pprof.StartCPUProfile(f); perr != nil {
			return fmt.Errorf("cpu profile: %w", perr)
		}
		defer func() { pprof.StopCPUProfile(); _ = f.Close() }()
	}
	awsCfg, err := sdkconfig.Load(ctx)
	if err != nil {
		return fmt.Errorf("load AWS config: %w", err)
	}
	// The API keys are read at start and on a timer, and the audit buffer is
	// sent from a background goroutine, outside any request: those clients
	// are not traced (they would report "no trace in context"). The buffered
	// records still carry their request's trace header.
	untracedCfg := awsCfg.Copy()
	traced := os.Getenv(tracing.EnvDaemonAddress) != ""
	var tp *tracing.Provider
	if traced {
		tp = tracing.ProviderFromEnv()
		defer tp.Close()
		tracing.InstrumentAWS(&awsCfg, tp)
	}
	sqsClient := sqs.NewFromConfig(awsCfg)
	pubOpts := []producer.Option{producer.WithMaxMessageBytes(s.maxMessageBytes)}
	if traced {
		pubOpts = append(pubOpts, producer.WithTracerProvider(tp))
	}
	auditQ, err := producer.New(sqsClient, s.auditQueueURL, append(pubOpts, producer.WithDefaultType(message.TypeAudit, ""))...)
	if err != nil {
		return fmt.Errorf("audit publisher: %w", err)
	}
	smsQ, err := producer.New(sqsClient, s.smsQueueURL, append(pubOpts, producer.WithDefaultType(message.TypeSMS, ""))...)
	if err != nil {
		return fmt.Errorf("sms publisher: %w", err)
	}
	bgAuditQ, err := producer.New(sqs.NewFromConfig(untracedCfg), s.auditQueueURL, producer.WithDefaultType(message.TypeAudit, ""), producer.WithMaxMessageBytes(s.maxMessageBytes))
	if err != nil {
		return fmt.Errorf("audit publisher: %w", err)
	}
	auditAsync, err := newAuditBuffer(bgAuditQ, s.auditBuffer, s.auditFlushInterval, log)
	if err != nil {
		return err
	}
	// From here on every return flushes what POST /audit accepted.
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), s.shutdownTimeout)
		defer cancel()
		if cerr := auditAsync.Close(cctx); cerr != nil {
			log.Error("audit buffer: records accepted with 202 were not sent", "error", cerr)
			err = errors.Join(err, fmt.Errorf("flush the audit buffer: %w", cerr))
			return
		}
		log.Info("audit buffer flushed")
	}()
	var smsSync SMSSender
	if s.twilioSecret != "" {
		creds := sms.NewSecretCredentials(secretsmanager.NewFromConfig(untracedCfg), s.twilioSecret, 0)
		if _, cerr := creds.Credentials(ctx); cerr != nil { // read once now, not in the first request
			return fmt.Errorf("twilio credentials: %w", cerr)
		}
		var opts []sms.TwilioOption
		if s.twilioURL != "" {
			opts = append(opts, sms.WithTwilioURL(s.twilioURL))
		}
		// In process memory: a retry of the same requestId to this process
		// is answered from the first send, not sent again.
		done, _ := idempotency.NewMemory()
		if smsSync, err = sms.NewSender(sms.NewTwilio(creds, opts...), done); err != nil {
			return fmt.Errorf("sms sender: %w", err)
		}
	}
	keys := newKeyStore(secretsmanager.NewFromConfig(untracedCfg), s.apiKeysSecret)
	limits := newRateLimiter(s.rate, s.burst)
	keys.onChange = limits.retain
	if err := keys.Load(ctx); err != nil {
		return err
	}
	keysCtx, stopKeys := context.WithCancel(ctx)
	defer stopKeys()
	go keys.Run(keysCtx, s.keysRefresh, log)
	svc := &service{
		audit:      audit.NewStore(dynamodb.NewFromConfig(awsCfg), s.auditTable),
		auditAsync: auditAsync, auditQ: auditQ, smsQ: smsQ, smsSync: smsSync,
		keys: keys, limits: limits, requestTimeout: requestTimeout,
		now: time.Now, log: log,
	}
	handler := svc.routes()
	if traced {
		handler = tracinghttp.Middleware(tp, "example-service", handler)
	}
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.addr, err)
	}
	log.Info("listening", "url", "http://"+ln.Addr().String(), "api_keys_from", s.apiKeysSecret, // a field named *secret* would be redacted: this is the secret's name, not its value
		"rate_per_second", s.rate, "burst", s.burst, "audit_buffer", s.auditBuffer, "sms_sync", smsSync != nil)
	err = serve(ctx, newServer(handler, log), ln, s.shutdownTimeout)
	log.Info("stopped", "error", err)
	return err
}

// newAuditBuffer is POST /audit's publisher: records wait in a bounded
// buffer (refused with ErrBufferFull when it is full, never blocking a
// request) and go out in batches of ten, or after flushEvery. A record SQS
// refuses after its 202 is logged, never dropped silently, and counted in
// Close's error.
func newAuditBuffer(p *producer.Publisher, size int, flushEvery time.Duration, log *slog.Logger) (*producer.AsyncPublisher, error) {
	a, err := producer.NewAsync(p, producer.WithBufferSize(size), producer.WithFlushInterval(flushEvery),
		producer.WithErrorWhenFull(), producer.WithFailureHandler(func(f producer.Failure) {
			log.Error("audit record accepted with 202 was not enqueued", logging.FieldAuditID, f.Message.IdempotencyKey, "error", f.Err)
		}))
	if err != nil {
		return nil, fmt.Errorf("audit buffer: %w", err)
	}
	return a, nil
}

// newServer is the service's HTTP server with every limit set: a client
// cannot hold a connection by sending slowly, send huge headers or keep an
// idle connection forever.
func newServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// serve runs srv on ln until ctx ends, then stops accepting connections and
// waits (at most drain) for the requests in flight to be answered before it
// returns: a SIGTERM during a deploy does not cut a request whose message
// may already be on the queue.
func serve(ctx context.Context, srv *http.Server, ln net.Listener, drain time.Duration) error {
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		_ = srv.Close()
		return fmt.Errorf("drain in-flight requests within %s: %w", drain, err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

func levelOr(name string, def slog.Level) *slog.Level {
	l := def
	if v := os.Getenv(name); v != "" {
		_ = l.UnmarshalText([]byte(v))
	}
	return &l
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
