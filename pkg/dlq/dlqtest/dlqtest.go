// Package dlqtest holds the CloudWatch alarm events that pkg/dlq parses and
// the DLQ alarm handler acts on, as AWS delivers them (through SNS, or
// directly to Lambda), so that the parser's tests and the handler's tests
// read the same bytes.
package dlqtest

import (
	"embed"
	"testing"
)

//go:embed testdata/*.json
var events embed.FS

// Event returns the event testdata/<name>, failing t when there is none:
// direct-alarm-event.json, sns-alarm-event.json,
// sns-ok-after-alarm-event.json, sns-ok-after-insufficient-data-event.json.
func Event(t testing.TB, name string) []byte {
	t.Helper()
	b, err := events.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatalf("dlqtest: %v", err)
	}
	return b
}
