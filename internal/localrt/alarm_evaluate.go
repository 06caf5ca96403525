package localrt

import (
	"encoding/json"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/offload/offload/pkg/dlq"
)

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
		values = append(values, datapointText(p))
		if compare(a.ComparisonOperator, p.value, threshold) {
			breaches++
		}
	}
	switch {
	case evaluated == 0 && treat == "ignore":
		return current, "", ""
	case evaluated == 0:
		state, reason = dlq.StateInsufficientData, insufficientDataReason(len(points))
	case breaches >= m:
		state, reason = dlq.StateAlarm, alarmReason(a.ComparisonOperator, threshold, values, breaches, len(points), m)
	default:
		state, reason = dlq.StateOK, okReason(a.ComparisonOperator, threshold, values, evaluated-breaches)
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
