package sms

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/offload/offload/pkg/message/messagetest"
)

func TestDecodeValidRequest(t *testing.T) {
	t.Parallel()
	r, err := Decode([]byte(`{"requestId":"r-1","to":"+447700900123","body":"Your code is 123456","senderId":"Offload"}`))
	require.NoError(t, err)
	require.Equal(t, Request{RequestID: "r-1", To: "+447700900123", Body: "Your code is 123456", SenderID: "Offload"}, r)
}

func TestDecodeReportsEveryProblemWithoutLeakingData(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, body string
		decode     bool
		fields     []string
	}{
		{"garbage", `hello`, true, nil},
		{"wrong type", `{"requestId":1}`, true, nil},
		{"all empty", `{}`, false, []string{"requestId", "to", "body"}},
		{"national format", `{"requestId":"a","to":"07700900123","body":"x"}`, false, []string{"to"}},
		{"letters", `{"requestId":"a","to":"+44770090012a","body":"x"}`, false, []string{"to"}},
		{"too long", `{"requestId":"a","to":"+4477009001234567","body":"x"}`, false, []string{"to"}},
		{"too short", `{"requestId":"a","to":"+447","body":"x"}`, false, []string{"to"}},
		{"leading zero", `{"requestId":"a","to":"+0447700900123","body":"x"}`, false, []string{"to"}},
		{"body too long", `{"requestId":"a","to":"+447700900123","body":"` + strings.Repeat("é", MaxBodyChars+1) + `"}`, false, []string{"body"}},
		{"bad sender", `{"requestId":"a","to":"+447700900123","body":"x","senderId":"TooLongSender"}`, false, []string{"senderId"}},
		{"numeric sender", `{"requestId":"a","to":"+447700900123","body":"x","senderId":"12345"}`, false, []string{"senderId"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Decode([]byte(tc.body))
			messagetest.RequireRefused(t, err, tc.decode, tc.fields)
			require.NotContains(t, err.Error(), "7700900", "numbers are masked in reasons")
		})
	}
}

func TestSenderIDForms(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"Offload", "Shop 24", "A", "+15005550006"} {
		require.NoError(t, Request{RequestID: "a", To: "+447700900123", Body: "x", SenderID: ok}.Validate(), ok)
	}
}

// MaskNumber is the repository's one masking policy (internal/phonemask,
// which pkg/logging uses too): country code and last two digits.
func TestMaskNumber(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"+447700900123":   "+44********23",
		"+15555550123":    "+1********23",
		"07700 900123":    "*********23",
		"+1234567":        "+1****67",
		"":                "",
		"not a number":    "not a number",
		"+4477009001234x": "+44*********34",
	}
	for in, want := range cases {
		got := MaskNumber(in)
		require.Equal(t, want, got, in)
		require.Equal(t, got, MaskNumber(got), "masking twice changes nothing: %s", in)
	}
}

func TestPayloadHashChangesWithContentOnly(t *testing.T) {
	t.Parallel()
	a := Request{RequestID: "1", To: "+447700900123", Body: "hi"}
	b := a
	b.RequestID = "2"
	require.Equal(t, a.PayloadHash(), b.PayloadHash())
	c := a
	c.Body = "hi!"
	require.NotEqual(t, a.PayloadHash(), c.PayloadHash())
	// Field boundaries matter: moving text between fields changes the hash.
	d := Request{To: "+447700900123h", Body: "i"}
	require.NotEqual(t, a.PayloadHash(), d.PayloadHash())
}
