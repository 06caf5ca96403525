package localrt

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/offload/offload/pkg/dlq"
)

// datapoint is one evaluation's metric value; missing when the metric could
// not be read.
type datapoint struct {
	at      time.Time
	value   float64
	missing bool
}

type alarmHistory struct {
	points []datapoint
	// window holds the samples taken since the last evaluation; the alarm's
	// statistic over them is the period's datapoint, as CloudWatch computes
	// it from the metric's one-minute samples.
	window []float64
}

// alarmEvaluator evaluates alarms on AWS/SQS metrics. It samples each metric
// every second and, once per alarm period, evaluates the alarm's statistic
// over the samples (so a DLQ alarm on Maximum does not flip to OK because a
// consumer or a DLQ sample hid the messages for a moment).
type alarmEvaluator struct {
	rt *Runtime
	// period overrides every alarm's Period when positive.
	period time.Duration
	log    *slog.Logger
	// lastEval is when each alarm was last evaluated.
	lastEval map[string]time.Time
	// mode is MetricModeFast or MetricModeFaithful; lastMinute is, in
	// faithful mode, the last minute each alarm took its datapoint in.
	mode       string
	lastMinute map[string]int64

	state     map[string]*alarmHistory
	queueURLs map[string]string
	// nonEmptySince approximates ApproximateAgeOfOldestMessage: when the
	// evaluator first saw the queue with visible messages (reset when empty).
	nonEmptySince map[string]time.Time
	delivering    sync.WaitGroup
}

func (ev *alarmEvaluator) run(ctx context.Context) {
	defer ev.delivering.Wait()
	ev.queueURLs = map[string]string{}
	ev.nonEmptySince = map[string]time.Time{}
	ev.lastMinute = map[string]int64{}
	tick := time.Second
	if ev.period > 0 && ev.period < tick {
		tick = ev.period
	}
	if ev.mode == MetricModeFaithful {
		tick = min(tick, max(ev.rt.scaled(time.Minute)/50, 5*time.Millisecond))
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		if err := ev.evaluateAll(ctx); err != nil && ctx.Err() == nil {
			ev.log.Warn("alarm evaluation failed", "error", err)
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
	}
}

func (ev *alarmEvaluator) evaluateAll(ctx context.Context) error {
	in := &cloudwatch.DescribeAlarmsInput{
		AlarmTypes: []cwtypes.AlarmType{cwtypes.AlarmTypeMetricAlarm},
	}
	if prefix := ev.rt.cfg.AlarmNamePrefix; prefix != "" {
		in.AlarmNamePrefix = aws.String(prefix)
	}
	p := cloudwatch.NewDescribeAlarmsPaginator(ev.rt.clients.CloudWatch, in)
	now := time.Now()
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("describe alarms: %w", err)
		}
		for _, a := range page.MetricAlarms {
			spec, ok := specOf(a)
			if !ok {
				continue
			}
			name := aws.ToString(a.AlarmName)
			period := ev.period
			if period <= 0 {
				period = time.Duration(max(spec.period, 1)) * time.Second
				if ev.mode == MetricModeFaithful {
					period = ev.rt.scaled(period)
				}
			}
			h := ev.state[name]
			if h == nil {
				h = &alarmHistory{}
				ev.state[name] = h
			}
			stat := a
			if stat.Statistic == "" && stat.ExtendedStatistic == nil {
				stat.Statistic = spec.statistic
			}
			if ev.mode == MetricModeFaithful {
				ev.faithful(ctx, a, stat, spec, h, period, now)
				continue
			}
			if sample := ev.sample(ctx, spec, now); !sample.missing {
				h.window = append(h.window, sample.value)
			}
			if last, ok := ev.lastEval[name]; ok && now.Sub(last) < period-period/10 {
				continue
			}
			ev.lastEval[name] = now
			ev.conclude(ctx, &a, stat, h, now)
		}
	}
	return nil
}

// conclude ends one period: its datapoint is the alarm's statistic over the
// window, and the alarm moves to the state the last datapoints give it.
func (ev *alarmEvaluator) conclude(ctx context.Context, a *cwtypes.MetricAlarm, stat cwtypes.MetricAlarm, h *alarmHistory, now time.Time) {
	dp := aggregate(stat, h.window, now)
	h.window = h.window[:0]
	n := int(max(aws.ToInt32(a.EvaluationPeriods), 1))
	h.points = append(h.points, dp)
	if len(h.points) > n {
		h.points = h.points[len(h.points)-n:]
	}
	old := string(a.StateValue)
	next, reason, data := evaluate(*a, h.points, old)
	if next == old {
		return
	}
	if err := ev.transition(ctx, *a, old, next, reason, data, now); err != nil {
		ev.log.Warn("alarm transition failed", "alarm", aws.ToString(a.AlarmName), "error", err)
		return
	}
	a.StateValue = cwtypes.StateValue(next)
}

// aggregate is the alarm's statistic over one period's samples; missing when
// there is none.
func aggregate(a cwtypes.MetricAlarm, samples []float64, now time.Time) datapoint {
	if len(samples) == 0 {
		return datapoint{at: now, missing: true}
	}
	sum, lo, hi := 0.0, samples[0], samples[0]
	for _, v := range samples {
		sum += v
		lo, hi = min(lo, v), max(hi, v)
	}
	v := hi // Maximum, and the fallback
	switch a.Statistic {
	case cwtypes.StatisticMinimum:
		v = lo
	case cwtypes.StatisticSum:
		v = sum
	case cwtypes.StatisticAverage:
		v = sum / float64(len(samples))
	case cwtypes.StatisticSampleCount:
		v = float64(len(samples))
	}
	if p := aws.ToString(a.ExtendedStatistic); strings.HasPrefix(p, "p") {
		if q, err := strconv.ParseFloat(p[1:], 64); err == nil && q >= 0 && q <= 100 {
			sorted := append([]float64(nil), samples...)
			slices.Sort(sorted)
			rank := int(math.Ceil(q/100*float64(len(sorted)))) - 1
			v = sorted[max(rank, 0)]
		}
	}
	return datapoint{at: now, value: v}
}

// metric reads one AWS/SQS metric of a queue from its attributes.
func (ev *alarmEvaluator) metric(ctx context.Context, name, queue string, now time.Time) datapoint {
	attr := map[string]string{
		"ApproximateNumberOfMessagesVisible":    "ApproximateNumberOfMessages",
		"ApproximateNumberOfMessagesNotVisible": "ApproximateNumberOfMessagesNotVisible",
		"ApproximateNumberOfMessagesDelayed":    "ApproximateNumberOfMessagesDelayed",
		"ApproximateAgeOfOldestMessage":         "ApproximateNumberOfMessages",
	}[name]
	if attr == "" {
		return datapoint{at: now, missing: true}
	}
	url, ok := ev.queueURLs[queue]
	if !ok {
		out, err := ev.rt.clients.SQS.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(queue)})
		if err != nil {
			return datapoint{at: now, missing: true}
		}
		url = aws.ToString(out.QueueUrl)
		ev.queueURLs[queue] = url
	}
	out, err := ev.rt.clients.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeName(attr)},
	})
	if err != nil {
		delete(ev.queueURLs, queue)
		return datapoint{at: now, missing: true}
	}
	v, err := strconv.ParseFloat(out.Attributes[attr], 64)
	if err != nil {
		return datapoint{at: now, missing: true}
	}
	if name == "ApproximateAgeOfOldestMessage" && ev.mode == MetricModeFaithful {
		sent, ok, err := ev.oldestSentTimestamp(ctx, queue)
		switch {
		case err != nil:
			ev.log.Warn("oldest message age not readable", "queue", queue, "error", err)
			return datapoint{at: now, missing: true}
		case !ok:
			return datapoint{at: now, value: 0}
		}
		// On the runtime's clock, as the alarm's periods are.
		age := time.Duration(float64(now.Sub(sent)) / ev.rt.cfg.ClockScale)
		return datapoint{at: now, value: max(age.Truncate(time.Second).Seconds(), 0)}
	}
	if name == "ApproximateAgeOfOldestMessage" {
		if v == 0 {
			delete(ev.nonEmptySince, queue)
			return datapoint{at: now, value: 0}
		}
		since, seen := ev.nonEmptySince[queue]
		if !seen {
			since = now
			ev.nonEmptySince[queue] = now
		}
		return datapoint{at: now, value: now.Sub(since).Truncate(time.Second).Seconds()}
	}
	return datapoint{at: now, value: v}
}

// transition writes the new state to the emulator and sends the
// notification to the actions of the new state (when actions are enabled).
func (ev *alarmEvaluator) transition(ctx context.Context, a cwtypes.MetricAlarm, old, next, reason, data string, now time.Time) error {
	name := aws.ToString(a.AlarmName)
	if _, err := ev.rt.clients.CloudWatch.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{
		AlarmName: a.AlarmName, StateValue: cwtypes.StateValue(next), StateReason: aws.String(reason), StateReasonData: aws.String(data),
	}); err != nil {
		return fmt.Errorf("set state of alarm %s: %w", name, err)
	}
	ev.log.Info("alarm state changed", "alarm", name, "old", old, "new", next, "reason", reason)
	if !aws.ToBool(a.ActionsEnabled) {
		return nil
	}
	var actions []string
	switch next {
	case dlq.StateAlarm:
		actions = a.AlarmActions
	case dlq.StateOK:
		actions = a.OKActions
	case dlq.StateInsufficientData:
		actions = a.InsufficientDataActions
	}
	msg, err := alarmMessage(a, old, next, reason, ev.rt.cfg.Region, now)
	if err != nil {
		return err
	}
	subject := fmt.Sprintf("%s: %q in %s", next, name, regionName(ev.rt.cfg.Region))
	if len(subject) > 100 {
		subject = subject[:100]
	}
	for _, action := range actions {
		if !strings.HasPrefix(action, "arn:aws:sns:") {
			ev.log.Info("alarm action not run locally", "alarm", name, "action", action)
			continue
		}
		ev.delivering.Go(func() {
			if err := ev.rt.deliver(ctx, action, subject, msg); err != nil {
				ev.log.Warn("alarm notification failed", "alarm", name, "topic", action, "error", err)
			}
		})
	}
	return nil
}
