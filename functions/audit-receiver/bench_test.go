package main

// Benchmarks of the article's audit receiver rebuilt in Go against ours, over
// the same DynamoDB client and a transport that takes 5 ms per write:
//
//	go test -run '^$' -bench BenchmarkBatchOf10 -benchmem ./functions/audit-receiver
//
// The article's function (SampleSqs.AuditReceiver) builds a new DynamoDB
// client for every message, writes the records one after the other with an
// unconditional save, and throws when any record failed, so Lambda delivers
// the whole batch again — up to maxReceiveCount (5) times for a poison message.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/offload/offload/pkg/audit"
	"github.com/offload/offload/pkg/batch"
	"github.com/offload/offload/pkg/batch/batchtest"
	"github.com/offload/offload/pkg/logging"
	"github.com/offload/offload/pkg/tracing"
)

const writeLatency = 5 * time.Millisecond

// What a batch costs on Lambda's bill, reported next to each design's time.
// The figures are the published on-demand rates for arm64 in US East
// (N. Virginia), first pricing tier (docs/performance.md cites the page).
const (
	benchMemoryMB         = 256          // the stack's function_memory_mb default
	armPricePerGBSecond   = 0.0000133334 // USD
	pricePerMillionInvoke = 0.20         // USD
)

// reportBill adds to b what one op costs on Lambda's bill when each op is
// invokesPerOp invocations of a batch of records records: each invocation's
// duration is billed rounded up to the next millisecond, at benchMemoryMB.
func reportBill(b *testing.B, invokesPerOp, records int) {
	perInvoke := float64(b.Elapsed().Nanoseconds()) / float64(b.N) / float64(invokesPerOp) / 1e6
	billedMs := math.Ceil(perInvoke)
	invokes := 1e6 / float64(records) * float64(invokesPerOp) // per million records
	gbSeconds := billedMs / 1000 * benchMemoryMB / 1024 * invokes
	b.ReportMetric(billedMs, "billed-ms/invoke")
	b.ReportMetric(gbSeconds, "GB-s/1M-records")
	b.ReportMetric(gbSeconds*armPricePerGBSecond+invokes/1e6*pricePerMillionInvoke, "USD/1M-records")
}

// slowDynamo answers every DynamoDB call with an empty success after writeLatency.
type slowDynamo struct{}

func (slowDynamo) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		_ = r.Body.Close()
	}
	time.Sleep(writeLatency)
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/x-amz-json-1.0"}},
		Body: io.NopCloser(strings.NewReader("{}")), Request: r}, nil
}

func benchConfig() aws.Config {
	return aws.Config{Region: "us-east-1", Credentials: aws.AnonymousCredentials{},
		HTTPClient: &http.Client{Transport: slowDynamo{}}, BaseEndpoint: aws.String("http://dynamodb.local")}
}

func batchOf10(bad bool) events.SQSEvent {
	var ev events.SQSEvent
	for i := range 10 {
		body := fmt.Sprintf(`{"messageId":"m-%d","auditText":"user %d signed in","auditTime":"2026-11-26T23:12:43.1234567Z"}`, i, i)
		if bad && i == 4 {
			body = `{"auditText":`
		}
		ev.Records = append(ev.Records, events.SQSMessage{MessageId: fmt.Sprintf("sqs-%d", i), ReceiptHandle: fmt.Sprintf("rh-%d", i),
			Body: body, EventSourceARN: "arn:aws:sqs:us-east-1:123456789012:audit", Attributes: map[string]string{"ApproximateReceiveCount": "1"}})
	}
	return ev
}

// articleMessage mirrors the article's AuditMessage class.
type articleMessage struct {
	MessageID string    `json:"messageId"`
	AuditText string    `json:"auditText"`
	AuditTime time.Time `json:"auditTime"`
}

// articleHandler is SampleSqs.AuditReceiver.FunctionHandler in Go.
func articleHandler(ctx context.Context, cfg aws.Config, ev events.SQSEvent) error {
	var errs []error
	for _, r := range ev.Records {
		var m articleMessage
		if err := json.Unmarshal([]byte(r.Body), &m); err != nil {
			errs = append(errs, fmt.Errorf("error processing message %s: %w", r.MessageId, err))
			continue
		}
		m.MessageID = r.MessageId
		client := dynamodb.NewFromConfig(cfg) // a new client per message, as in the article
		_, err := client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("AuditMessages"), Item: map[string]types.AttributeValue{
			"messageId": &types.AttributeValueMemberS{Value: m.MessageID},
			"auditText": &types.AttributeValueMemberS{Value: m.AuditText},
			"auditTime": &types.AttributeValueMemberS{Value: m.AuditTime.UTC().Format("2006-01-02T15:04:05.000Z")},
		}})
		if err != nil {
			errs = append(errs, fmt.Errorf("error processing message %s: %w", r.MessageId, err))
		}
	}
	return errors.Join(errs...) // AggregateException: the whole batch comes back
}

func oursProcessor(b *testing.B, dlq batch.DeadLetterAPI) *batch.Processor {
	h := &handler{store: audit.NewStore(dynamodb.NewFromConfig(benchConfig()), "AuditMessages"), metrics: &batchtest.Counter{},
		limits: audit.Limits{Now: func() time.Time { return time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC) }}}
	// Untraced, as the article's design is: the comparison is of the designs.
	offp, err := tracing.NewProvider(tracing.Config{Disabled: true})
	if err != nil {
		b.Fatal(err)
	}
	proc, err := batch.New(h.handle, batch.WithConcurrency(10), batch.WithDeadLetter(dlq, "https://sqs/123456789012/audit-dlq"),
		batch.WithLogger(logging.New(logging.WithOutput(io.Discard))), batch.WithTracer(tracing.NewTracer(offp)))
	if err != nil {
		b.Fatal(err)
	}
	return proc
}

// benchArticle has the article's design receive ev receives times per
// iteration, as SQS redelivers a failed batch until maxReceiveCount, and
// fails unless each receive fails exactly when ev holds a poison record.
func benchArticle(b *testing.B, ev events.SQSEvent, receives int, poison bool) {
	cfg := benchConfig()
	ctx := context.Background()
	for b.Loop() {
		for range receives {
			if err := articleHandler(ctx, cfg, ev); (err != nil) != poison {
				b.Fatalf("the batch failed: %v; want failed: %v (poison record)", err, poison)
			}
		}
	}
	reportBill(b, receives, len(ev.Records))
}

// benchOurs processes ev once per iteration with oursProcessor and fails on
// any batch item failure: the poison record is dead-lettered, not returned.
// Our design receives a batch once, so it bills one receive.
func benchOurs(b *testing.B, ev events.SQSEvent) {
	proc := oursProcessor(b, &batchtest.SQS{})
	ctx := context.Background()
	for b.Loop() {
		resp, _ := proc.Process(ctx, ev)
		if len(resp.BatchItemFailures) != 0 {
			b.Fatal(resp.BatchItemFailures)
		}
	}
	reportBill(b, 1, len(ev.Records))
}

// BenchmarkBatchOf10 is one batch of ten good records.
func BenchmarkBatchOf10(b *testing.B) {
	ev := batchOf10(false)
	b.Run("design=article", func(b *testing.B) { benchArticle(b, ev, 1, false) })
	b.Run("design=offload", func(b *testing.B) { benchOurs(b, ev) })
}

// BenchmarkBatchOf10WithOnePoisonRecord is the work needed to get a batch
// with one malformed record out of the queue: the article's design receives
// the whole batch maxReceiveCount (5) times and rewrites the nine good
// records each time before SQS dead-letters all ten; ours writes the nine once
// and dead-letters the bad one at once.
func BenchmarkBatchOf10WithOnePoisonRecord(b *testing.B) {
	ev := batchOf10(true)
	b.Run("design=article", func(b *testing.B) { benchArticle(b, ev, 5, true) })
	b.Run("design=offload", func(b *testing.B) { benchOurs(b, ev) })
}
