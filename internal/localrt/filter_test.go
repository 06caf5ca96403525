package localrt

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// Examples from AWS's documentation: Lambda event filtering
// (https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html,
// https://docs.aws.amazon.com/lambda/latest/dg/with-sqs-filtering.html) and
// SNS filter policies
// (https://docs.aws.amazon.com/sns/latest/dg/sns-subscription-filter-policies.html,
// https://docs.aws.amazon.com/sns/latest/dg/numeric-value-matching.html).
func TestPatternMatchesAWSDocExamples(t *testing.T) {
	t.Parallel()
	sqsRecord := `{"messageId":"059f36b4","body":{"RecordNumber":1234,"TimeStamp":"yyyy-mm-ddThh:mm:ss","RequestCode":"AAAA"},"attributes":{"ApproximateReceiveCount":"1"}}`
	cases := []struct {
		name, pattern, event string
		want                 bool
	}{
		// Lambda: SQS body filtering.
		{"exact body field", `{"body":{"RequestCode":["AAAA"]}}`, sqsRecord, true},
		{"exact body field, other value", `{"body":{"RequestCode":["BBBB"]}}`, sqsRecord, false},
		{"numeric range", `{"body":{"RecordNumber":[{"numeric":[">",1000,"<=",2000]}]}}`, sqsRecord, true},
		{"numeric range, outside", `{"body":{"RecordNumber":[{"numeric":[">",0,"<=",5]}]}}`, sqsRecord, false},
		{"prefix", `{"body":{"TimeStamp":[{"prefix":"yyyy-"}]}}`, sqsRecord, true},
		{"suffix", `{"body":{"TimeStamp":[{"suffix":":ss"}]}}`, sqsRecord, true},
		{"equals-ignore-case", `{"body":{"RequestCode":[{"equals-ignore-case":"aaaa"}]}}`, sqsRecord, true},
		{"or of values", `{"body":{"RequestCode":["BBBB","AAAA"]}}`, sqsRecord, true},
		{"two fields: and", `{"body":{"RequestCode":["AAAA"],"RecordNumber":[9]}}`, sqsRecord, false},
		{"exists", `{"body":{"RequestCode":[{"exists":true}]}}`, sqsRecord, true},
		{"exists false on a missing field", `{"body":{"Missing":[{"exists":false}]}}`, sqsRecord, true},
		{"exists false on a present field", `{"body":{"RequestCode":[{"exists":false}]}}`, sqsRecord, false},
		{"a missing field matches no value", `{"body":{"Missing":[{"anything-but":"x"}]}}`, sqsRecord, false},
		{"anything-but", `{"body":{"RequestCode":[{"anything-but":"BBBB"}]}}`, sqsRecord, true},
		{"anything-but list", `{"body":{"RequestCode":[{"anything-but":["AAAA","BBBB"]}]}}`, sqsRecord, false},
		{"anything-but prefix", `{"body":{"RequestCode":[{"anything-but":{"prefix":"AA"}}]}}`, sqsRecord, false},
		{"null", `{"body":{"Gone":[null]}}`, `{"body":{"Gone":null}}`, true},
		{"plain string body", `{"body":["hello"]}`, `{"body":"hello"}`, true},
		// SNS: the filter policy example (attributes as an object).
		{"sns policy", `{"store":["example_corp"],"event":[{"anything-but":"order_cancelled"}],"customer_interests":["rugby","football","baseball"],"price_usd":[{"numeric":[">=",100]}]}`,
			`{"store":"example_corp","event":"order_placed","customer_interests":["soccer","rugby","hockey"],"price_usd":210.75}`, true},
		{"sns policy, cancelled", `{"store":["example_corp"],"event":[{"anything-but":"order_cancelled"}]}`,
			`{"store":"example_corp","event":"order_cancelled"}`, false},
		{"sns numeric =", `{"price_usd":[{"numeric":["=",301.5]}]}`, `{"price_usd":3.015e2}`, true},
		{"sns anything-but numbers", `{"price":[{"anything-but":[100,500]}]}`, `{"price":100.1}`, true},
		{"sns anything-but numbers, excluded", `{"price":[{"anything-but":[100,500]}]}`, `{"price":500}`, false},
		{"a string is not a number", `{"price":[{"numeric":[">",0]}]}`, `{"price":"5"}`, false},
		{"nested body scope", `{"patient":{"vitals":{"temp":[{"numeric":[">",38]}]}}}`, `{"patient":{"vitals":{"temp":39.1}}}`, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := ParsePattern(c.pattern)
			require.NoError(t, err)
			var ev any
			require.NoError(t, json.Unmarshal([]byte(c.event), &ev))
			require.Equal(t, c.want, p.Match(ev))
		})
	}
}

func TestParsePatternRejectsWhatAWSRejects(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{
		`not json`, `{"a":"scalar"}`, `{"a":[{"numeric":[">"]}]}`, `{"a":[{"numeric":["!=",1]}]}`,
		`{"a":[{"prefix":1}]}`, `{"a":[{"exists":"yes"}]}`, `{"a":[{"wildcard-ish":"x"}]}`, `{"a":[{"prefix":"x","suffix":"y"}]}`,
	} {
		_, err := ParsePattern(bad)
		require.Error(t, err, bad)
	}
}
