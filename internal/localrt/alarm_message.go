package localrt

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

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
