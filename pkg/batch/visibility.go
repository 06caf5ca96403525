package batch

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/sirupsen/logrus"

	"github.com/offload/offload/internal/backoff"
)

// VisibilityAPI is the subset of *sqs.Client operations used to delay the
// redelivery of transiently failed records.
type VisibilityAPI interface {
	GetQueueUrl(ctx context.Context, in *sqs.GetQueueUrlInput, optFns ...func(*sqs.Options)) (*sqs.GetQueueUrlOutput, error)
	ChangeMessageVisibility(ctx context.Context, in *sqs.ChangeMessageVisibilityInput, optFns ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error)
}

// BackoffPolicy returns how long a transiently failed record should stay
// invisible, from its ApproximateReceiveCount (1 on first delivery). Zero
// leaves the queue's visibility timeout alone.
type BackoffPolicy func(receiveCount int) time.Duration

// maxVisibility is SQS's longest visibility timeout.
const maxVisibility = 12 * time.Hour

// maxVisibilityChange is the longest visibility the processor asks for. SQS
// refuses a change reaching beyond 12 hours from the receive, and the change
// is made up to 15 minutes (Lambda's longest invocation) after it.
const maxVisibilityChange = maxVisibility - 15*time.Minute

// ExponentialBackoff returns a policy of base × 2^(receiveCount−1), capped at
// limit (and at SQS's 12 hours). It never overflows: every receive count, up
// to math.MaxInt, gives a delay between base and the cap, non-decreasing in
// the count.
func ExponentialBackoff(base, limit time.Duration) BackoffPolicy {
	limit = min(limit, maxVisibility)
	return func(receiveCount int) time.Duration {
		return backoff.Exponential(base, limit, receiveCount)
	}
}

// RetryBudget is how long a record that fails transiently on every receive
// stays on its queue before SQS moves it to the DLQ: the sum of policy's
// delays over receives 1 … maxReceiveCount (SQS dead-letters on the receive
// after the last one). Processing time comes on top. Nil policy: 0 (the
// queue's visibility timeout alone decides).
func RetryBudget(policy BackoffPolicy, maxReceiveCount int) time.Duration {
	if policy == nil {
		return 0
	}
	var total time.Duration
	for n := 1; n <= maxReceiveCount; n++ {
		total += min(policy(n), maxVisibility)
	}
	return total
}

// putBack sets rec's visibility to d (0: visible again at once) and returns
// the log fields saying so, with the error when the change failed.
func (p *Processor) putBack(ctx context.Context, rec *events.SQSMessage, d time.Duration) logrus.Fields {
	fields := logrus.Fields{"retry_after_s": int(d / time.Second)}
	if err := p.changeVisibility(ctx, rec, d); err != nil {
		fields["visibility_error"] = err.Error()
	}
	return fields
}

// visibilityFor is how long rec stays invisible after err: the error's own
// RetryAfter, else the backoff policy's delay, else 0 (the queue's timeout).
func (p *Processor) visibilityFor(rec *events.SQSMessage, err error) time.Duration {
	var te *TransientError
	if errors.As(err, &te) && te.Backoff > 0 {
		return min(te.Backoff, maxVisibility)
	}
	if p.backoff != nil {
		return min(p.backoff(receiveCount(rec)), maxVisibility)
	}
	return 0
}

func (p *Processor) changeVisibility(ctx context.Context, rec *events.SQSMessage, d time.Duration) error {
	url, err := p.queueURLs.resolve(ctx, p.vis, rec.EventSourceARN)
	if err != nil {
		return err
	}
	// Whole seconds, at least 1 for a delay (0 only when asked for: a
	// record put back at once), within SQS's 12 hours from the receive.
	secs := int32(0)
	if d > 0 {
		secs = int32(min(max(d/time.Second, 1), maxVisibilityChange/time.Second))
	}
	_, err = p.vis.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
		QueueUrl: &url, ReceiptHandle: &rec.ReceiptHandle, VisibilityTimeout: secs,
	})
	if err != nil {
		return fmt.Errorf("change visibility of %s to %ds: %w", rec.MessageId, secs, err)
	}
	return nil
}

// queueURLCache resolves queue ARNs (arn:aws:sqs:region:account:name) to
// their URLs with GetQueueUrl, once per ARN. The zero value is ready.
type queueURLCache struct {
	urls sync.Map // source ARN → queue URL
}

func (c *queueURLCache) resolve(ctx context.Context, api VisibilityAPI, arn string) (string, error) {
	if u, ok := c.urls.Load(arn); ok {
		return u.(string), nil
	}
	parts := strings.Split(arn, ":")
	if len(parts) != 6 || parts[2] != "sqs" {
		return "", fmt.Errorf("resolve queue URL: %q is not an SQS queue ARN", arn)
	}
	out, err := api.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: &parts[5], QueueOwnerAWSAccountId: &parts[4]})
	if err != nil {
		return "", fmt.Errorf("resolve queue URL of %s: %w", arn, err)
	}
	url := aws.ToString(out.QueueUrl)
	c.urls.Store(arn, url)
	return url, nil
}
