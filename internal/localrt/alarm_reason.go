package localrt

import (
	"fmt"
	"strconv"
	"strings"

	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// CloudWatch's reason text (StateReason), word for word.

// insufficientDataReason: no datapoint of the n evaluated was known.
func insufficientDataReason(n int) string {
	return fmt.Sprintf("Insufficient Data: %d datapoint%s %s unknown.", n, plural(n), wasWere(n))
}

// alarmReason: breaches of the last n datapoints (values) crossed the
// threshold, m being needed for ALARM.
func alarmReason(op cwtypes.ComparisonOperator, threshold float64, values []string, breaches, n, m int) string {
	return fmt.Sprintf("Threshold Crossed: %d out of the last %d datapoints [%s] was %s the threshold (%s) (minimum %d datapoint%s for OK -> ALARM transition).",
		breaches, n, strings.Join(values, ", "), comparisonText(op), formatFloat(threshold), m, plural(m))
}

// okReason: ok datapoints (values) did not cross the threshold.
func okReason(op cwtypes.ComparisonOperator, threshold float64, values []string, ok int) string {
	return fmt.Sprintf("Threshold Crossed: %d datapoint%s [%s] %s not %s the threshold (%s).",
		max(ok, 1), plural(ok), strings.Join(values, ", "), wasWere(ok), comparisonText(op), formatFloat(threshold))
}

// datapointText is a datapoint as the reason lists it: value (dd/mm/yy time).
func datapointText(p datapoint) string {
	return fmt.Sprintf("%s (%s)", formatFloat(p.value), p.at.UTC().Format("02/01/06 15:04:05"))
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
