package messagetest

import (
	"errors"
	"fmt"
	"testing"

	"github.com/offload/offload/pkg/message"
)

// recorder is a testing.TB that records a failure instead of stopping the test.
type recorder struct {
	testing.TB
	failed bool
}

func (r *recorder) Helper() {}

func (r *recorder) Fatalf(string, ...any) { r.failed = true }

func TestRequireRefusedFailsOnAnyMismatch(t *testing.T) {
	t.Parallel()
	decodeErr := fmt.Errorf("wrapped: %w", &message.DecodeError{Kind: "json", Err: errors.New("bad json")})
	validation := &message.ValidationError{}
	validation.Add("to", "not E.164")
	validation.Add("body", "empty")
	for _, tc := range []struct {
		name   string
		err    error
		decode bool
		fields []string
		fails  bool
	}{
		{"decode error", decodeErr, true, nil, false},
		{"fields in any order", validation, false, []string{"body", "to"}, false},
		{"no error", nil, true, nil, true},
		{"a decode error is not validation", decodeErr, false, nil, true},
		{"validation is not a decode error", validation, true, []string{"to", "body"}, true},
		{"a field missing", validation, false, []string{"to"}, true},
		{"a field too many", validation, false, []string{"to", "body", "senderId"}, true},
		{"another field", validation, false, []string{"to", "senderId"}, true},
	} {
		r := &recorder{TB: t}
		RequireRefused(r, tc.err, tc.decode, tc.fields)
		if r.failed != tc.fails {
			t.Errorf("%s: failed %v, want %v", tc.name, r.failed, tc.fails)
		}
	}
}
