package localrt

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// Metric modes (Config.MetricMode).
const (
	// MetricModeFast samples every metric once a second and takes the
	// alarm's statistic over each period's samples: faster and denser than
	// AWS, for tests that need alarms to react within seconds.
	MetricModeFast = "fast"
	// MetricModeFaithful publishes one AWS/SQS datapoint per metric per
	// minute (Config.ClockScale scales the minute), taken at a fixed point
	// inside the minute, as SQS does; ApproximateAgeOfOldestMessage comes
	// from the oldest message's SentTimestamp (the emulator's
	// /_offload/sqs/oldest side channel).
	MetricModeFaithful = "faithful"
)

// sqsMetric is one AWS/SQS metric of one queue.
type sqsMetric struct {
	id, name, queue string
}

// alarmSpec is what the evaluator needs of an alarm: its AWS/SQS metrics
// and, for a metric-math alarm, the sum they are combined with.
type alarmSpec struct {
	metrics   []sqsMetric
	statistic cwtypes.Statistic
	period    int32
}

// specOf reads an alarm on AWS/SQS metrics with a QueueName dimension: a
// single-metric alarm, or a metric-math alarm whose returned expression is a
// sum of such metrics ("m1 + m2"). ok is false for any other alarm.
func specOf(a cwtypes.MetricAlarm) (alarmSpec, bool) {
	if len(a.Metrics) == 0 {
		queue := dimension(a.Dimensions, "QueueName")
		if aws.ToString(a.Namespace) != "AWS/SQS" || queue == "" {
			return alarmSpec{}, false
		}
		return alarmSpec{metrics: []sqsMetric{{name: aws.ToString(a.MetricName), queue: queue}}, statistic: a.Statistic, period: aws.ToInt32(a.Period)}, true
	}
	stats := map[string]*cwtypes.MetricStat{}
	var expr string
	for _, q := range a.Metrics {
		switch {
		case q.MetricStat != nil:
			stats[aws.ToString(q.Id)] = q.MetricStat
			if aws.ToBool(q.ReturnData) && expr == "" {
				expr = aws.ToString(q.Id)
			}
		case q.Expression != nil && (q.ReturnData == nil || *q.ReturnData):
			expr = aws.ToString(q.Expression)
		}
	}
	var s alarmSpec
	for _, id := range strings.Split(expr, "+") {
		id = strings.TrimSpace(id)
		ms := stats[id]
		if ms == nil || ms.Metric == nil || aws.ToString(ms.Metric.Namespace) != "AWS/SQS" {
			return alarmSpec{}, false
		}
		queue := dimension(ms.Metric.Dimensions, "QueueName")
		if queue == "" {
			return alarmSpec{}, false
		}
		s.metrics = append(s.metrics, sqsMetric{id: id, name: aws.ToString(ms.Metric.MetricName), queue: queue})
		s.statistic = cwtypes.Statistic(aws.ToString(ms.Stat))
		s.period = aws.ToInt32(ms.Period)
	}
	return s, len(s.metrics) > 0
}

// sample reads the alarm's value now: the sum of its metrics; missing when
// any is.
func (ev *alarmEvaluator) sample(ctx context.Context, s alarmSpec, now time.Time) datapoint {
	sum := 0.0
	for _, m := range s.metrics {
		dp := ev.metric(ctx, m.name, m.queue, now)
		if dp.missing {
			return dp
		}
		sum += dp.value
	}
	return datapoint{at: now, value: sum}
}

// faithful takes the alarm's datapoints as SQS publishes them — one per
// (scaled) minute, at a fixed offset inside it (10–90 % of the minute, from
// the alarm's name) — and concludes a period once the datapoint of its last
// minute is in, so each period of N minutes aggregates exactly N datapoints
// whatever the machine's load. Minutes a busy machine's ticks skipped are
// caught up with the value read now.
func (ev *alarmEvaluator) faithful(ctx context.Context, a, stat cwtypes.MetricAlarm, spec alarmSpec, h *alarmHistory, period time.Duration, now time.Time) {
	name := aws.ToString(a.AlarmName)
	minute := ev.rt.scaled(time.Minute)
	perPeriod := max(int64(period/minute), 1)
	f := fnv.New32a()
	_, _ = f.Write([]byte(name))
	offset := minute/10 + time.Duration(f.Sum32()%800)*minute/1000
	due := now.Add(-offset).UnixNano() / int64(minute)
	last, seen := ev.lastMinute[name]
	if !seen {
		last = due - 1
	}
	if due <= last {
		return
	}
	ev.lastMinute[name] = due
	sample := ev.sample(ctx, spec, now)
	for m := last + 1; m <= due; m++ {
		if !sample.missing {
			h.window = append(h.window, sample.value)
		}
		if (m+1)%perPeriod == 0 {
			ev.conclude(ctx, &a, stat, h, now)
		}
	}
}

// oldestSentTimestamp asks the emulator for the SentTimestamp of the queue's
// oldest message (a local-only side channel: SQS has no way to read it
// without receiving, which would count towards maxReceiveCount). ok is false
// for an empty queue.
func (ev *alarmEvaluator) oldestSentTimestamp(ctx context.Context, queue string) (time.Time, bool, error) {
	endpoint := strings.TrimRight(ev.rt.cfg.Endpoint, "/")
	if endpoint == "" {
		return time.Time{}, false, fmt.Errorf("oldest message of %s: no emulator endpoint", queue)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint+"/_offload/sqs/oldest?queue="+url.QueryEscape(queue), nil)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("oldest message of %s: %w", queue, err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("oldest message of %s: %w", queue, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return time.Time{}, false, fmt.Errorf("oldest message of %s: emulator answered %s", queue, res.Status)
	}
	var body struct {
		SentTimestamp *int64 `json:"sentTimestamp"`
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		return time.Time{}, false, fmt.Errorf("oldest message of %s: %w", queue, err)
	}
	if body.SentTimestamp == nil {
		return time.Time{}, false, nil
	}
	return time.UnixMilli(*body.SentTimestamp), true, nil
}

func dimension(dims []cwtypes.Dimension, name string) string {
	for _, d := range dims {
		if aws.ToString(d.Name) == name {
			return aws.ToString(d.Value)
		}
	}
	return ""
}
