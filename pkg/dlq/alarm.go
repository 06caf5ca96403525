package dlq

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// Alarm states as CloudWatch names them.
const (
	StateAlarm            = "ALARM"
	StateOK               = "OK"
	StateInsufficientData = "INSUFFICIENT_DATA"
)

// Alarm is a CloudWatch alarm state change, from whichever delivery.
type Alarm struct {
	Name          string
	ARN           string
	Description   string
	AccountID     string
	Region        string
	State         string
	PreviousState string
	Reason        string
	ChangedAt     time.Time
	Namespace     string
	MetricName    string
	Threshold     float64
	Dimensions    map[string]string
	// DeliveryID identifies the delivery (the SNS MessageId), when there is one.
	DeliveryID string
}

// QueueName returns the SQS queue the alarm watches (its QueueName
// dimension), or "" when it is not an AWS/SQS alarm.
func (a Alarm) QueueName() string {
	if a.Namespace != "AWS/SQS" {
		return ""
	}
	return a.Dimensions["QueueName"]
}

// ChangeKey identifies the state change, not the delivery: two SNS
// deliveries of the same change share it.
func (a Alarm) ChangeKey() string {
	return fmt.Sprintf("%s|%s|%s", firstNonEmpty(a.ARN, a.Name), a.State, a.ChangedAt.UTC().Format(time.RFC3339Nano))
}

// cloudWatchTime is how CloudWatch writes times: "2026-11-27T00:12:43.123+0000".
var cloudWatchTimeLayouts = []string{"2006-01-02T15:04:05.000-0700", "2006-01-02T15:04:05-0700", time.RFC3339Nano}

func parseCloudWatchTime(s string) (time.Time, error) {
	for _, l := range cloudWatchTimeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("time %q is not in CloudWatch's format", s)
}

// FromSNSPayload converts the alarm JSON CloudWatch publishes to SNS.
func FromSNSPayload(p events.CloudWatchAlarmSNSPayload) (Alarm, error) {
	a := Alarm{
		Name: p.AlarmName, ARN: p.AlarmARN, Description: p.AlarmDescription, AccountID: p.AWSAccountID,
		Region: p.Region, State: p.NewStateValue, PreviousState: p.OldStateValue, Reason: p.NewStateReason,
		Namespace: p.Trigger.Namespace, MetricName: p.Trigger.MetricName, Threshold: p.Trigger.Threshold,
		Dimensions: map[string]string{},
	}
	for _, d := range p.Trigger.Dimensions {
		a.Dimensions[d.Name] = d.Value
	}
	// Metric-math alarms carry their metric in Trigger.Metrics.
	if a.MetricName == "" {
		for _, m := range p.Trigger.Metrics {
			if m.MetricStat.Metric.MetricName == "" {
				continue
			}
			a.Namespace, a.MetricName = m.MetricStat.Metric.Namespace, m.MetricStat.Metric.MetricName
			for _, d := range m.MetricStat.Metric.Dimensions {
				a.Dimensions[d.Name] = d.Value
			}
			break
		}
	}
	if p.StateChangeTime != "" {
		t, err := parseCloudWatchTime(p.StateChangeTime)
		if err != nil {
			return Alarm{}, err
		}
		a.ChangedAt = t
	}
	return a, a.validate()
}

// DirectPayload is the event CloudWatch sends when an alarm action invokes a
// Lambda function directly (source "aws.cloudwatch").
type DirectPayload struct {
	Source    string `json:"source"`
	AlarmARN  string `json:"alarmArn"`
	AccountID string `json:"accountId"`
	Time      string `json:"time"`
	Region    string `json:"region"`
	AlarmData struct {
		AlarmName     string      `json:"alarmName"`
		State         directState `json:"state"`
		PreviousState directState `json:"previousState"`
		Configuration struct {
			Description string `json:"description"`
			Metrics     []struct {
				ID         string `json:"id"`
				MetricStat struct {
					Metric struct {
						Namespace  string            `json:"namespace"`
						Name       string            `json:"name"`
						Dimensions map[string]string `json:"dimensions"`
					} `json:"metric"`
					Period int64  `json:"period"`
					Stat   string `json:"stat"`
				} `json:"metricStat"`
				ReturnData bool `json:"returnData"`
			} `json:"metrics"`
		} `json:"configuration"`
	} `json:"alarmData"`
}

type directState struct {
	Value     string `json:"value"`
	Reason    string `json:"reason"`
	Timestamp string `json:"timestamp"`
}

// FromDirectPayload converts the direct alarm-to-Lambda event.
func FromDirectPayload(p DirectPayload) (Alarm, error) {
	d := p.AlarmData
	a := Alarm{
		Name: d.AlarmName, ARN: p.AlarmARN, Description: d.Configuration.Description, AccountID: p.AccountID,
		Region: p.Region, State: d.State.Value, PreviousState: d.PreviousState.Value, Reason: d.State.Reason,
		Dimensions: map[string]string{},
	}
	for _, m := range d.Configuration.Metrics {
		if m.MetricStat.Metric.Name == "" {
			continue
		}
		a.Namespace, a.MetricName = m.MetricStat.Metric.Namespace, m.MetricStat.Metric.Name
		for k, v := range m.MetricStat.Metric.Dimensions {
			a.Dimensions[k] = v
		}
		break
	}
	ts := firstNonEmpty(d.State.Timestamp, p.Time)
	if ts != "" {
		t, err := parseCloudWatchTime(ts)
		if err != nil {
			return Alarm{}, err
		}
		a.ChangedAt = t
	}
	return a, a.validate()
}

func (a Alarm) validate() error {
	var errs []error
	if a.Name == "" {
		errs = append(errs, errors.New("alarm name is empty"))
	}
	switch a.State {
	case StateAlarm, StateOK, StateInsufficientData:
	default:
		errs = append(errs, fmt.Errorf("unknown alarm state %q", a.State))
	}
	return errors.Join(errs...)
}

// ParseEvent reads whatever invoked the handler: an SNS event carrying
// CloudWatch alarm JSON (one alarm per record) or a direct alarm invocation.
func ParseEvent(raw []byte) ([]Alarm, error) {
	var probe struct {
		Records []json.RawMessage `json:"Records"`
		Source  string            `json:"source"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return nil, fmt.Errorf("event is not JSON: %w", err)
	}
	switch {
	case probe.Source == "aws.cloudwatch":
		var p DirectPayload
		if err := json.Unmarshal(raw, &p); err != nil {
			return nil, fmt.Errorf("decode alarm invocation: %w", err)
		}
		a, err := FromDirectPayload(p)
		if err != nil {
			return nil, err
		}
		return []Alarm{a}, nil
	case len(probe.Records) > 0:
		var ev events.SNSEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, fmt.Errorf("decode SNS event: %w", err)
		}
		var alarms []Alarm
		var errs []error
		for _, r := range ev.Records {
			var p events.CloudWatchAlarmSNSPayload
			if err := json.Unmarshal([]byte(r.SNS.Message), &p); err != nil {
				errs = append(errs, fmt.Errorf("SNS message %s is not a CloudWatch alarm: %w", r.SNS.MessageID, err))
				continue
			}
			a, err := FromSNSPayload(p)
			if err != nil {
				errs = append(errs, fmt.Errorf("SNS message %s: %w", r.SNS.MessageID, err))
				continue
			}
			a.DeliveryID = r.SNS.MessageID
			alarms = append(alarms, a)
		}
		return alarms, errors.Join(errs...)
	}
	return nil, errors.New("event is neither an SNS event nor a CloudWatch alarm invocation")
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if strings.TrimSpace(s) != "" {
			return s
		}
	}
	return ""
}
