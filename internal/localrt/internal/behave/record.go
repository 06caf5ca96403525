// Package behave is the wire format of the local runtime's test function
// (internal/localrt/testdata/fixtures/behave): what the fixture writes for
// each invoke and the conformance tests read back, declared once for both.
package behave

import "encoding/json"

// Record is one invoke as the function saw it: one JSON line of
// FIXTURE_RECORD. Start and End are Unix nanoseconds, Deadline Unix
// milliseconds (the Runtime API's Lambda-Runtime-Deadline-Ms).
type Record struct {
	PID       int               `json:"pid"`
	Start     int64             `json:"start"`
	End       int64             `json:"end"`
	RequestID string            `json:"requestId"`
	TraceID   string            `json:"traceId"`
	Deadline  int64             `json:"deadline"`
	Event     json.RawMessage   `json:"event"`
	Env       map[string]string `json:"env"`
}
