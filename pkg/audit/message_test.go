package audit

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/offload/offload/pkg/batch"
	"github.com/offload/offload/pkg/message"
	"github.com/offload/offload/pkg/message/messagetest"
)

var now = time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)

func limits() Limits { return Limits{Now: func() time.Time { return now }} }

func TestDecodeAcceptsWhatDotNetProducersSend(t *testing.T) {
	t.Parallel()
	cases := []struct {
		file     string
		id, text string
		at       string // TimeLayout
	}{
		{"dotnet-utc.json", "7f9c2ba4-e88f-4c1a-9c1e-3b1d0c6e2a11", "User 42 signed in", "2026-11-26T23:12:43.1234567Z"},
		{"dotnet-local-offset.json", "0b6c1f2e-5a7d-4e8b-9f3a-2c4d6e8f0a1b", "Order 1001 shipped", "2026-11-26T23:12:43.1200000Z"},
		{"dotnet-null-id-omitted.json", "", "Password changed for user 7", "2026-11-26T23:12:43.0000000Z"},
		{"dotnet-unspecified-kind.json", "", "Report exported", "2026-11-26T23:12:43.5000000Z"},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			body, err := os.ReadFile(filepath.Join("testdata", tc.file))
			require.NoError(t, err)
			m, err := limits().Decode(body)
			require.NoError(t, err)
			require.Equal(t, tc.id, m.MessageID)
			require.Equal(t, tc.text, m.AuditText)
			require.Equal(t, tc.at, FormatTime(m.AuditTime))

			// Round trip: what we write reads back identically.
			again := requireRoundTrip(t, m)
			require.True(t, m.AuditTime.Equal(again.AuditTime))
		})
	}
}

func TestParseTimeForms(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"2026-11-26T23:12:43.1234567Z":      "2026-11-26T23:12:43.1234567Z",
		"2026-11-26T23:12:43.1234567-05:00": "2026-11-27T04:12:43.1234567Z",
		"2026-11-26T23:12:43":               "2026-11-26T23:12:43.0000000Z",
		"2026-11-26 23:12:43":               "2026-11-26T23:12:43.0000000Z",
		`/Date(1795734763123)/`:             "2026-11-26T23:12:43.1230000Z",
		`\/Date(1795734763123+0200)\/`:      "2026-11-26T23:12:43.1230000Z",
		" 2026-11-26T23:12:43Z ":            "2026-11-26T23:12:43.0000000Z",
	}
	for in, want := range cases {
		got, err := ParseTime(in)
		require.NoError(t, err, in)
		require.Equal(t, want, FormatTime(got), in)
	}
	for _, bad := range []string{"", "yesterday", "2026-13-01T00:00:00Z", "/Date(abc)/", "/Date(1+02)/", "/Date(12"} {
		_, err := ParseTime(bad)
		require.Error(t, err, bad)
	}
}

func TestDecodeRejectsBadInputWithReasons(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, body string
		decode     bool     // a *message.DecodeError rather than validation
		fields     []string // fields named by the *message.ValidationError
	}{
		{"not json", `audit: hello`, true, nil},
		{"array", `[1,2]`, true, nil},
		{"time not a string", `{"auditText":"x","auditTime":12}`, true, nil},
		{"time garbage", `{"auditText":"x","auditTime":"soon"}`, true, nil},
		{"not utf8", "{\"auditText\":\"\xff\",\"auditTime\":\"2026-11-26T23:12:43Z\"}", true, nil},
		{"empty text", `{"auditText":"  ","auditTime":"2026-11-26T23:12:43Z"}`, false, []string{"auditText"}},
		{"missing time", `{"auditText":"x"}`, false, []string{"auditTime"}},
		{"null time", `{"auditText":"x","auditTime":null}`, false, []string{"auditTime"}},
		{"dotnet default time", `{"auditText":"x","auditTime":"0001-01-01T00:00:00"}`, false, []string{"auditTime"}},
		{"far future", `{"auditText":"x","auditTime":"2030-01-01T00:00:00Z"}`, false, []string{"auditTime"}},
		{"everything wrong", `{}`, false, []string{"auditText", "auditTime"}},
		{"oversize", `{"auditText":"` + strings.Repeat("a", MaxTextBytes+1) + `","auditTime":"2026-11-26T23:12:43Z"}`, false, []string{"auditText"}},
		{"huge id", `{"messageId":"` + strings.Repeat("i", 1025) + `","auditText":"x","auditTime":"2026-11-26T23:12:43Z"}`, false, []string{"messageId"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := limits().Decode([]byte(tc.body))
			messagetest.RequireRefused(t, err, tc.decode, tc.fields)
			class := message.ClassValidation
			if tc.decode {
				class = message.ClassDecode
			}
			pe, ok := batch.AsPermanent(err)
			require.True(t, ok, "permanent for pkg/batch: %v", err)
			require.Equal(t, class, pe.Class)
			require.Equal(t, err.Error(), pe.Reason, "the reason is the error's own message")
			require.NotContains(t, err.Error(), strings.Repeat("a", 100), "reasons never carry the text")
		})
	}
}

// TestDecodeReadsLikeUnmarshalJSON: Decode's single pass over the body
// reads what json.Unmarshal into a Message does, escapes included, and
// fails with the same message.
func TestDecodeReadsLikeUnmarshalJSON(t *testing.T) {
	t.Parallel()
	for _, body := range []string{
		`{"messageId":"m-1","auditText":"user 1 signed in","auditTime":"2026-11-26T23:12:43.1234567Z"}`,
		`{"MESSAGEID":"m-2","AuditText":"x","AUDITTIME":"2026-11-26T23:12:43Z"}`,
		`{"auditText":"x","auditTime":"2026-11-26T23:12:43\u002E5Z"}`,
		`{"auditText":"x","auditTime":"\/Date(1795734763123+0200)\/"}`,
		`{"auditText":"x","auditTime":" 2026-11-26T23:12:43Z "}`,
		`{"auditText":"x","auditTime": "2026-11-26T23:12:43Z" }`,
		`{"auditText":"x","auditTime":12}`,
		`{"auditText":"x","auditTime":"soon"}`,
		`{"auditText":"x","auditTime":"\u0073oon"}`,
		`{"auditText":5}`,
		`[1,2]`,
		`null`,
	} {
		var want Message
		wantErr := json.Unmarshal([]byte(body), &want)
		got, err := Limits{Now: func() time.Time { return now }, MaxSkew: 100 * 365 * 24 * time.Hour}.Decode([]byte(body))
		if wantErr != nil {
			var de *message.DecodeError
			require.ErrorAs(t, err, &de, body)
			require.Equal(t, wantErr.Error(), de.Err.Error(), body)
			continue
		}
		if err != nil {
			var ve *message.ValidationError
			require.ErrorAs(t, err, &ve, body)
			continue
		}
		require.Equal(t, want.MessageID, got.MessageID, body)
		require.Equal(t, want.AuditText, got.AuditText, body)
		require.True(t, want.AuditTime.Equal(got.AuditTime), body)
		require.False(t, got.AuditTime.IsZero(), body)
	}
}

func TestDecodeAcceptsTimeAtSkewBoundary(t *testing.T) {
	t.Parallel()
	body := `{"auditText":"x","auditTime":"` + FormatTime(now.Add(24*time.Hour)) + `"}`
	_, err := limits().Decode([]byte(body))
	require.NoError(t, err)
}

func FuzzDecode(f *testing.F) {
	for _, name := range []string{"dotnet-utc.json", "dotnet-local-offset.json", "dotnet-null-id-omitted.json", "dotnet-unspecified-kind.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		require.NoError(f, err)
		f.Add(b)
	}
	f.Add([]byte(`{"auditText":"x","auditTime":"\/Date(1795734763123+0200)\/"}`))
	f.Add([]byte(`{"auditTime":null}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := limits().Decode(body)
		if err != nil {
			var de *message.DecodeError
			var ve *message.ValidationError
			if !errors.As(err, &de) && !errors.As(err, &ve) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
			return
		}
		// Anything accepted survives our own encoding unchanged.
		requireRoundTrip(t, m)
	})
}

// requireRoundTrip encodes m as we write it and requires that it decodes
// to the same id, text and time (to the 100 ns TimeLayout keeps).
func requireRoundTrip(t *testing.T, m Message) Message {
	t.Helper()
	out, err := json.Marshal(m)
	require.NoError(t, err)
	again, err := limits().Decode(out)
	require.NoError(t, err)
	require.Equal(t, m.MessageID, again.MessageID)
	require.Equal(t, m.AuditText, again.AuditText)
	require.Equal(t, FormatTime(m.AuditTime), FormatTime(again.AuditTime))
	return again
}
