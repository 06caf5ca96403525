//go:build e2e

package e2e

// Local end-to-end throughput of the audit pipeline, next to what the
// emulator itself can do, measured in the same run:
//
//	make bench-e2e    (or: TIERS=e2e GOTESTFLAGS='-run ^$ -bench . -benchtime 500x' scripts/test.sh)
//
// BenchmarkAuditPipeline sends b.N audit messages (10 per SendMessageBatch)
// and waits until every item is in the table: throughput is items per second
// end to end; latency is from the send to the item's storedAt, p50 and p99.
// BenchmarkEmulatorReceivePutDelete is the floor under it: the same work
// without Lambda — receive 10, put 10 items, delete 10 — straight against the
// emulator.

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/offload/offload/pkg/audit"
)

func BenchmarkAuditPipeline(b *testing.B) {
	ctx := context.Background()
	run := stack.Unique("bench")
	sent := make(map[string]time.Time, b.N)
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i += 10 {
		var bodies []string
		for j := i; j < min(i+10, b.N); j++ {
			id := fmt.Sprintf("%s-%d", run, j)
			body, _ := json.Marshal(audit.Message{MessageID: id, AuditText: "benchmark", AuditTime: time.Now().UTC()})
			bodies = append(bodies, string(body))
			sent[id] = time.Now()
		}
		if _, err := stack.SendBatchE(ctx, stack.Outputs.AuditQueueURL, bodies...); err != nil {
			b.Fatal(err)
		}
	}
	latencies := make([]time.Duration, 0, b.N)
	var last time.Time
	for id, at := range sent {
		item, err := stack.WaitForItemE(ctx, stack.Outputs.AuditTableName, "messageId", id, 5*time.Minute)
		if err != nil {
			b.Fatal(err)
		}
		stored, err := time.Parse(time.RFC3339Nano, s(item[audit.AttrStoredAt]))
		if err != nil {
			b.Fatal(err)
		}
		latencies = append(latencies, stored.Sub(at))
		if stored.After(last) {
			last = stored
		}
	}
	b.StopTimer()
	slices.Sort(latencies)
	pct := func(p float64) float64 {
		return float64(latencies[min(len(latencies)-1, int(p*float64(len(latencies))))].Microseconds()) / 1000
	}
	b.ReportMetric(float64(b.N)/last.Sub(start).Seconds(), "items/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}

// BenchmarkEmulatorReceivePutDelete runs the same work as the pipeline —
// receive 10, conditional put of 10 items, delete 10 — straight against the
// emulator, with one worker and with as many as the audit mapping's maximum
// concurrency (5): the pipeline's ceiling on this machine.
func BenchmarkEmulatorReceivePutDelete(b *testing.B) {
	for _, workers := range []int{1, 5} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) { rawCapacity(b, workers) })
	}
}

func rawCapacity(b *testing.B, workers int) {
	ctx := context.Background()
	name := stack.Unique("rawq")
	q, err := stack.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name)})
	if err != nil {
		b.Fatal(err)
	}
	defer stack.SQS.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: q.QueueUrl}) //nolint:errcheck
	b.ResetTimer()
	start := time.Now()
	// Sent while being consumed, as in BenchmarkAuditPipeline: a queue
	// filled up front would measure moto's scan of a long queue instead.
	go func() {
		for i := 0; i < b.N; i += 10 {
			var entries []sqstypes.SendMessageBatchRequestEntry
			for j := i; j < min(i+10, b.N); j++ {
				entries = append(entries, sqstypes.SendMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(j)), MessageBody: aws.String(fmt.Sprintf("%s-%d", name, j))})
			}
			if _, err := stack.SQS.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: q.QueueUrl, Entries: entries}); err != nil {
				b.Error(err)
				return
			}
		}
	}()
	var mu sync.Mutex
	done := 0
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				mu.Lock()
				finished := done >= b.N
				mu.Unlock()
				if finished {
					return
				}
				out, err := stack.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
				if err != nil {
					b.Error(err)
					return
				}
				var puts sync.WaitGroup
				var del []sqstypes.DeleteMessageBatchRequestEntry
				for i, m := range out.Messages {
					del = append(del, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), ReceiptHandle: m.ReceiptHandle})
					puts.Go(func() {
						_, err := stack.DynamoDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(stack.Outputs.AuditTableName),
							ConditionExpression: aws.String("attribute_not_exists(messageId)"),
							Item: map[string]ddbtypes.AttributeValue{
								"messageId": &ddbtypes.AttributeValueMemberS{Value: aws.ToString(m.Body)},
								"auditTime": &ddbtypes.AttributeValueMemberS{Value: audit.FormatTime(time.Now())},
								"auditText": &ddbtypes.AttributeValueMemberS{Value: "raw"}}})
						if err != nil {
							b.Error(err)
						}
					})
				}
				puts.Wait()
				if len(del) > 0 {
					if _, err := stack.SQS.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: q.QueueUrl, Entries: del}); err != nil {
						b.Error(err)
						return
					}
				}
				mu.Lock()
				done += len(out.Messages)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "items/s")
}
