package batch_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/offload/offload/pkg/batch"
)

// auditLike mirrors the shape of the article's AuditMessage.
type auditLike struct {
	MessageID *string   `json:"messageId,omitempty"`
	AuditText string    `json:"auditText"`
	AuditTime time.Time `json:"auditTime"`
}

func (a *auditLike) Validate() error {
	if strings.TrimSpace(a.AuditText) == "" {
		return errors.New("auditText is empty")
	}
	return nil
}

func TestDecodeJSON(t *testing.T) {
	t.Parallel()
	v, err := batch.DecodeJSON[auditLike](`{"auditText":"signed in","auditTime":"2026-11-26T23:12:43.1234567Z","extra":1}`)
	require.NoError(t, err)
	require.Equal(t, "signed in", v.AuditText)
	require.Equal(t, 123456700, v.AuditTime.Nanosecond())

	cases := []struct {
		body, class, reason string
		opts                []batch.DecodeOption
	}{
		{"", batch.ClassDecode, "empty body", nil},
		{"  \n", batch.ClassDecode, "empty body", nil},
		{`{"auditText": "+447700900089"`, batch.ClassDecode, "truncated JSON", nil},
		{`{"auditText": x}`, batch.ClassDecode, "invalid JSON at byte 15", nil},
		{`{"auditText": 42}`, batch.ClassDecode, `field "auditText": JSON number does not fit string`, nil},
		{`{"auditText":"a"} {"auditText":"b"}`, batch.ClassDecode, "trailing data after the JSON value at byte 17", nil},
		{`{"auditText":"a","auditTime":"yesterday"}`, batch.ClassDecode, "body does not decode as batch_test.auditLike", nil},
		{`{"auditText":"a","extra":1}`, batch.ClassDecode, `unknown field "extra"`, []batch.DecodeOption{batch.DisallowUnknownFields()}},
		{`{"auditText":"a","+447700900089":1}`, batch.ClassDecode, "unknown field", []batch.DecodeOption{batch.DisallowUnknownFields()}},
		{`{"auditText":"  "}`, batch.ClassValidation, "auditText is empty", nil},
		{`null`, batch.ClassValidation, "auditText is empty", nil},
	}
	for _, c := range cases {
		_, err := batch.DecodeJSON[auditLike](c.body, c.opts...)
		pe, ok := batch.AsPermanent(err)
		require.True(t, ok, "body %q: %v", c.body, err)
		require.Equal(t, c.class, pe.Class, "body %q", c.body)
		require.Equal(t, c.reason, pe.Reason, "body %q", c.body)
		require.NotContains(t, pe.Reason, "7700900089")
	}
}

func TestDecodeJSONKeepsPermanentFromValidate(t *testing.T) {
	t.Parallel()
	_, err := batch.DecodeJSON[strictType](`{}`)
	pe, ok := batch.AsPermanent(err)
	require.True(t, ok)
	require.Equal(t, "policy", pe.Class)
}

type strictType struct{}

func (strictType) Validate() error { return batch.Permanent("policy", "not allowed", nil) }

// FuzzDecodeJSON checks that no body makes DecodeJSON panic, that every
// failure is a permanent decode or validation error whose reason does not
// echo the body, and that what decodes survives a round trip.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{
		`{"auditText":"signed in","auditTime":"2026-11-26T23:12:43.1234567Z"}`,
		`{"messageId":"m-1","auditText":"x","auditTime":"2026-11-26T23:12:43+01:00"}`,
		`{"auditText":""}`, `null`, `[]`, `"str"`, `{`, `{"auditText":1}`, "", "{} {}",
		`{"auditText":"\u0000\ud800"}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		v, err := batch.DecodeJSON[auditLike](body)
		if err != nil {
			pe, ok := batch.AsPermanent(err)
			if !ok {
				t.Fatalf("not a permanent error: %T %v", err, err)
			}
			if pe.Class != batch.ClassDecode && pe.Class != batch.ClassValidation {
				t.Fatalf("class %q", pe.Class)
			}
			if len(body) >= 16 && strings.Contains(pe.Reason, body) {
				t.Fatalf("reason %q echoes the body", pe.Reason)
			}
			if strings.ContainsAny(pe.Reason, "\n\r") {
				t.Fatalf("reason %q is not one line", pe.Reason)
			}
			return
		}
		again, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("decoded value does not encode: %v", err)
		}
		w, err := batch.DecodeJSON[auditLike](string(again))
		if err != nil {
			t.Fatalf("round trip of %s: %v", again, err)
		}
		if w.AuditText != v.AuditText || !w.AuditTime.Equal(v.AuditTime) {
			t.Fatalf("round trip changed %+v into %+v", v, w)
		}
	})
}
