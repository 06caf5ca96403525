// Command example-service is a user-facing HTTP service that offloads slow
// work, the producer side of offload (and of the article):
//
//	POST /audit       {"auditText": …, "auditTime"?: …, "messageId"?: …} → 202 once on the audit queue
//	POST /sms         {"to": "+E.164", "body": …, "senderId"?: …, "requestId"?: …} → 202 once on the SMS queue
//	POST /audit/sync  the same audit record written to DynamoDB before answering, for comparison
//	GET  /healthz
//
// Configuration comes from flags or the environment (AUDIT_QUEUE_URL,
// SMS_QUEUE_URL, AUDIT_TABLE_NAME, EXAMPLE_SERVICE_ADDR); AWS from the standard
// SDK environment. Requests are traced with X-Ray when AWS_XRAY_DAEMON_ADDRESS
// is set, and the trace continues into the functions through AWSTraceHeader.
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
	"strconv"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/offload/offload/pkg/audit"
	"github.com/offload/offload/pkg/message"
	"github.com/offload/offload/pkg/producer"
	"github.com/offload/offload/pkg/tracing"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := realMain(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "example-service:", err)
		os.Exit(1)
	}
}

type settings struct {
	addr, auditQueueURL, smsQueueURL, auditTable string
	// maxMessageBytes is the queues' MaximumMessageSize: the producers
	// refuse larger bodies before calling SQS.
	maxMessageBytes int
}

func parseFlags(args []string) (settings, error) {
	var s settings
	fs := flag.NewFlagSet("example-service", flag.ContinueOnError)
	fs.StringVar(&s.addr, "addr", envOr("EXAMPLE_SERVICE_ADDR", "127.0.0.1:8080"), "listen address")
	fs.StringVar(&s.auditQueueURL, "audit-queue-url", os.Getenv("AUDIT_QUEUE_URL"), "audit queue URL")
	fs.StringVar(&s.smsQueueURL, "sms-queue-url", os.Getenv("SMS_QUEUE_URL"), "SMS queue URL")
	fs.StringVar(&s.auditTable, "audit-table", os.Getenv("AUDIT_TABLE_NAME"), "AuditMessages table (for POST /audit/sync)")
	defMax, _ := strconv.Atoi(envOr("MAX_MESSAGE_BYTES", "262144"))
	fs.IntVar(&s.maxMessageBytes, "max-message-bytes", defMax, "the queues' MaximumMessageSize (the stack's queue_max_message_size output)")
	if err := fs.Parse(args); err != nil {
		return s, err
	}
	var errs []error
	for name, v := range map[string]string{"--audit-queue-url (AUDIT_QUEUE_URL)": s.auditQueueURL, "--sms-queue-url (SMS_QUEUE_URL)": s.smsQueueURL, "--audit-table (AUDIT_TABLE_NAME)": s.auditTable} {
		if v == "" {
			errs = append(errs, fmt.Errorf("%s is required", name))
		}
	}
	return s, errors.Join(errs...)
}

func realMain(ctx context.Context, args []string) error {
	s, err := parseFlags(args)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil)).With("service", "example-service")
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return fmt.Errorf("load AWS config: %w", err)
	}
	traced := os.Getenv(tracing.EnvDaemonAddress) != ""
	if traced {
		tracing.InstrumentAWS(&awsCfg)
	}
	sqsClient := sqs.NewFromConfig(awsCfg)
	auditQ, err := producer.New(sqsClient, s.auditQueueURL, producer.WithDefaultType(message.TypeAudit, ""), producer.WithMaxMessageBytes(s.maxMessageBytes))
	if err != nil {
		return fmt.Errorf("audit publisher: %w", err)
	}
	smsQ, err := producer.New(sqsClient, s.smsQueueURL, producer.WithDefaultType(message.TypeSMS, ""), producer.WithMaxMessageBytes(s.maxMessageBytes))
	if err != nil {
		return fmt.Errorf("sms publisher: %w", err)
	}
	svc := &service{
		audit:  audit.NewStore(dynamodb.NewFromConfig(awsCfg), s.auditTable),
		auditQ: auditQ, smsQ: smsQ, now: time.Now, log: log,
	}
	handler := svc.routes()
	if traced {
		handler = tracing.Middleware("example-service", handler)
	}
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.addr, err)
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	log.Info("listening", "url", "http://"+ln.Addr().String())
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
