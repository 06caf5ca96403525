package localrt

import (
	"context"
	"encoding/json"
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
)

// Alarm states.
const (
	StateOK               = "OK"
	StateAlarm            = "ALARM"
	StateInsufficientData = "INSUFFICIENT_DATA"
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

// evaluate applies the alarm's comparison, threshold, M-of-N datapoints and
// missing-data treatment to the latest datapoints, returning the new state
// and CloudWatch's reason text and reason data.
func evaluate(a cwtypes.MetricAlarm, points []datapoint, current string) (state, reason, data string) {
	n := int(max(aws.ToInt32(a.EvaluationPeriods), 1))
	m := n
	if a.DatapointsToAlarm != nil && *a.DatapointsToAlarm > 0 {
		m = int(*a.DatapointsToAlarm)
	}
	treat := aws.ToString(a.TreatMissingData)
	if treat == "" {
		treat = "missing"
	}
	threshold := aws.ToFloat64(a.Threshold)
	breaches, evaluated := 0, 0
	var values []string
	var recent []float64
	for _, p := range points {
		if p.missing {
			switch treat {
			case "breaching":
				breaches++
				evaluated++
			case "notBreaching":
				evaluated++
			}
			continue
		}
		evaluated++
		recent = append(recent, p.value)
		values = append(values, fmt.Sprintf("%s (%s)", formatFloat(p.value), p.at.UTC().Format("02/01/06 15:04:05")))
		if compare(a.ComparisonOperator, p.value, threshold) {
			breaches++
		}
	}
	op := comparisonText(a.ComparisonOperator)
	switch {
	case evaluated == 0 && treat == "ignore":
		return current, "", ""
	case evaluated == 0:
		state = StateInsufficientData
		reason = fmt.Sprintf("Insufficient Data: %d datapoint%s %s unknown.", len(points), plural(len(points)), wasWere(len(points)))
	case breaches >= m:
		state = StateAlarm
		reason = fmt.Sprintf("Threshold Crossed: %d out of the last %d datapoints [%s] was %s the threshold (%s) (minimum %d datapoint%s for OK -> ALARM transition).",
			breaches, len(points), strings.Join(values, ", "), op, formatFloat(threshold), m, plural(m))
	default:
		state = StateOK
		reason = fmt.Sprintf("Threshold Crossed: %d datapoint%s [%s] %s not %s the threshold (%s).",
			max(evaluated-breaches, 1), plural(evaluated-breaches), strings.Join(values, ", "), wasWere(evaluated-breaches), op, formatFloat(threshold))
	}
	statistic := string(a.Statistic)
	doc := map[string]any{
		"version":          "1.0",
		"queryDate":        time.Now().UTC().Format("2006-01-02T15:04:05.000+0000"),
		"statistic":        statistic,
		"period":           aws.ToInt32(a.Period),
		"recentDatapoints": recent,
		"threshold":        threshold,
	}
	b, _ := json.Marshal(doc)
	return state, reason, string(b)
}

func compare(op cwtypes.ComparisonOperator, v, threshold float64) bool {
	switch op {
	case cwtypes.ComparisonOperatorGreaterThanThreshold:
		return v > threshold
	case cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold:
		return v >= threshold
	case cwtypes.ComparisonOperatorLessThanThreshold:
		return v < threshold
	case cwtypes.ComparisonOperatorLessThanOrEqualToThreshold:
		return v <= threshold
	}
	return false
}

func comparisonText(op cwtypes.ComparisonOperator) string {
	switch op {
	case cwtypes.ComparisonOperatorGreaterThanThreshold:
		return "greater than"
	case cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold:
		return "greater than or equal to"
	case cwtypes.ComparisonOperatorLessThanThreshold:
		return "less than"
	case cwtypes.ComparisonOperatorLessThanOrEqualToThreshold:
		return "less than or equal to"
	}
	return string(op)
}

func formatFloat(f float64) string {
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func wasWere(n int) string {
	if n == 1 {
		return "was"
	}
	return "were"
}

func dimension(dims []cwtypes.Dimension, name string) string {
	for _, d := range dims {
		if aws.ToString(d.Name) == name {
			return aws.ToString(d.Value)
		}
	}
	return ""
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
	case StateAlarm:
		actions = a.AlarmActions
	case StateOK:
		actions = a.OKActions
	case StateInsufficientData:
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

// cloudWatchAlarmMessage is CloudWatch's alarm notification, field for field
// in CloudWatch's order (events.CloudWatchAlarmSNSPayload parses it).
type cloudWatchAlarmMessage struct {
	AlarmName                          string       `json:"AlarmName"`
	AlarmDescription                   *string      `json:"AlarmDescription"`
	AWSAccountID                       string       `json:"AWSAccountId"`
	AlarmConfigurationUpdatedTimestamp string       `json:"AlarmConfigurationUpdatedTimestamp"`
	NewStateValue                      string       `json:"NewStateValue"`
	NewStateReason                     string       `json:"NewStateReason"`
	StateChangeTime                    string       `json:"StateChangeTime"`
	Region                             string       `json:"Region"`
	AlarmArn                           string       `json:"AlarmArn"`
	OldStateValue                      string       `json:"OldStateValue"`
	OKActions                          []string     `json:"OKActions"`
	AlarmActions                       []string     `json:"AlarmActions"`
	InsufficientDataActions            []string     `json:"InsufficientDataActions"`
	Trigger                            alarmTrigger `json:"Trigger"`
}

type alarmTrigger struct {
	MetricName                       string           `json:"MetricName,omitempty"`
	Namespace                        string           `json:"Namespace,omitempty"`
	StatisticType                    string           `json:"StatisticType,omitempty"`
	Statistic                        string           `json:"Statistic,omitempty"`
	Unit                             *string          `json:"Unit"`
	Dimensions                       []alarmDimension `json:"Dimensions,omitempty"`
	Metrics                          []alarmQuery     `json:"Metrics,omitempty"`
	Period                           int32            `json:"Period"`
	EvaluationPeriods                int32            `json:"EvaluationPeriods"`
	DatapointsToAlarm                int32            `json:"DatapointsToAlarm,omitempty"`
	ComparisonOperator               string           `json:"ComparisonOperator"`
	Threshold                        float64          `json:"Threshold"`
	TreatMissingData                 string           `json:"TreatMissingData"`
	EvaluateLowSampleCountPercentile string           `json:"EvaluateLowSampleCountPercentile"`
}

// alarmQuery is one query of a metric-math alarm's Trigger.Metrics.
type alarmQuery struct {
	Expression string           `json:"Expression,omitempty"`
	ID         string           `json:"Id"`
	Label      string           `json:"Label,omitempty"`
	MetricStat *alarmMetricStat `json:"MetricStat,omitempty"`
	ReturnData bool             `json:"ReturnData"`
}

type alarmMetricStat struct {
	Metric struct {
		Dimensions []alarmDimension `json:"Dimensions"`
		MetricName string           `json:"MetricName"`
		Namespace  string           `json:"Namespace"`
	} `json:"Metric"`
	Period int32  `json:"Period"`
	Stat   string `json:"Stat"`
}

func alarmQueries(a cwtypes.MetricAlarm) []alarmQuery {
	var out []alarmQuery
	for _, q := range a.Metrics {
		aq := alarmQuery{Expression: aws.ToString(q.Expression), ID: aws.ToString(q.Id), Label: aws.ToString(q.Label), ReturnData: q.ReturnData == nil || *q.ReturnData}
		if ms := q.MetricStat; ms != nil && ms.Metric != nil {
			st := &alarmMetricStat{Period: aws.ToInt32(ms.Period), Stat: aws.ToString(ms.Stat)}
			st.Metric.MetricName, st.Metric.Namespace = aws.ToString(ms.Metric.MetricName), aws.ToString(ms.Metric.Namespace)
			st.Metric.Dimensions = []alarmDimension{}
			for _, d := range ms.Metric.Dimensions {
				st.Metric.Dimensions = append(st.Metric.Dimensions, alarmDimension{Value: aws.ToString(d.Value), Name: aws.ToString(d.Name)})
			}
			aq.MetricStat = st
		}
		out = append(out, aq)
	}
	return out
}

type alarmDimension struct {
	Value string `json:"value"`
	Name  string `json:"name"`
}

// alarmMessage renders CloudWatch's alarm notification JSON.
func alarmMessage(a cwtypes.MetricAlarm, old, next, reason, region string, now time.Time) (string, error) {
	arn := aws.ToString(a.AlarmArn)
	account := ""
	if parts := strings.Split(arn, ":"); len(parts) > 4 {
		account = parts[4]
	}
	treat := aws.ToString(a.TreatMissingData)
	if treat == "" {
		treat = "missing"
	}
	statistic := strings.ToUpper(string(a.Statistic))
	statType := "Statistic"
	if statistic == "" && aws.ToString(a.ExtendedStatistic) == "" {
		statType = ""
	} else if statistic == "" {
		statistic = strings.ToUpper(aws.ToString(a.ExtendedStatistic))
		statType = "ExtendedStatistic"
	}
	var unit *string
	if a.Unit != "" {
		unit = aws.String(string(a.Unit))
	}
	dims := make([]alarmDimension, 0, len(a.Dimensions))
	for _, d := range a.Dimensions {
		dims = append(dims, alarmDimension{Value: aws.ToString(d.Value), Name: aws.ToString(d.Name)})
	}
	updated := now
	if a.AlarmConfigurationUpdatedTimestamp != nil {
		updated = *a.AlarmConfigurationUpdatedTimestamp
	}
	nonNil := func(s []string) []string {
		if s == nil {
			return []string{}
		}
		return s
	}
	msg := cloudWatchAlarmMessage{
		AlarmName:                          aws.ToString(a.AlarmName),
		AlarmDescription:                   a.AlarmDescription,
		AWSAccountID:                       account,
		AlarmConfigurationUpdatedTimestamp: updated.UTC().Format("2006-01-02T15:04:05.000+0000"),
		NewStateValue:                      next,
		NewStateReason:                     reason,
		StateChangeTime:                    now.UTC().Format("2006-01-02T15:04:05.000+0000"),
		Region:                             regionName(region),
		AlarmArn:                           arn,
		OldStateValue:                      old,
		OKActions:                          nonNil(a.OKActions),
		AlarmActions:                       nonNil(a.AlarmActions),
		InsufficientDataActions:            nonNil(a.InsufficientDataActions),
		Trigger: alarmTrigger{
			MetricName:                       aws.ToString(a.MetricName),
			Namespace:                        aws.ToString(a.Namespace),
			StatisticType:                    statType,
			Statistic:                        statistic,
			Unit:                             unit,
			Dimensions:                       dims,
			Metrics:                          alarmQueries(a),
			Period:                           aws.ToInt32(a.Period),
			EvaluationPeriods:                aws.ToInt32(a.EvaluationPeriods),
			DatapointsToAlarm:                aws.ToInt32(a.DatapointsToAlarm),
			ComparisonOperator:               string(a.ComparisonOperator),
			Threshold:                        aws.ToFloat64(a.Threshold),
			TreatMissingData:                 "- TreatMissingData:                    " + treat,
			EvaluateLowSampleCountPercentile: aws.ToString(a.EvaluateLowSampleCountPercentile),
		},
	}
	b, err := json.Marshal(msg)
	if err != nil {
		return "", fmt.Errorf("encode alarm message for %s: %w", msg.AlarmName, err)
	}
	return string(b), nil
}

// regionName is the display name CloudWatch puts in notifications.
func regionName(region string) string {
	names := map[string]string{
		"us-east-1": "US East (N. Virginia)", "us-east-2": "US East (Ohio)",
		"us-west-1": "US West (N. California)", "us-west-2": "US West (Oregon)",
		"eu-west-1": "EU (Ireland)", "eu-west-2": "EU (London)", "eu-west-3": "EU (Paris)",
		"eu-central-1": "EU (Frankfurt)", "eu-north-1": "EU (Stockholm)",
		"ap-southeast-1": "Asia Pacific (Singapore)", "ap-southeast-2": "Asia Pacific (Sydney)",
		"ap-northeast-1": "Asia Pacific (Tokyo)", "ca-central-1": "Canada (Central)",
		"sa-east-1": "South America (Sao Paulo)",
	}
	if n, ok := names[region]; ok {
		return n
	}
	return region
}
