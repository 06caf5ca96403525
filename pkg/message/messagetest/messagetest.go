// Package messagetest checks, for the domain decoders' tests (pkg/audit,
// pkg/sms, …), that a refused body comes back as the error contract of
// pkg/message says: a *message.DecodeError for a body that cannot be read, a
// *message.ValidationError naming every field that is wrong otherwise.
package messagetest

import (
	"errors"
	"testing"

	"github.com/offload/offload/pkg/message"
)

// RequireRefused fails t unless err is a *message.DecodeError (decode true)
// or not one (decode false), and the *message.ValidationError in its chain
// names exactly fields, in any order (none when there is no such error).
func RequireRefused(t testing.TB, err error, decode bool, fields []string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want a refusal (decode error %v, fields %q)", decode, fields)
	}
	var de *message.DecodeError
	if got := errors.As(err, &de); got != decode {
		t.Fatalf("decode error? %v, want %v: %v", got, decode, err)
	}
	var got []string
	var ve *message.ValidationError
	if errors.As(err, &ve) {
		got = ve.Fields()
	}
	if !sameFields(got, fields) {
		t.Fatalf("fields %q, want %q: %v", got, fields, err)
	}
}

func sameFields(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	left := map[string]int{}
	for _, f := range a {
		left[f]++
	}
	for _, f := range b {
		if left[f] == 0 {
			return false
		}
		left[f]--
	}
	return true
}
