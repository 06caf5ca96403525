package phone

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseNormalisesToE164(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, region, e164, country string }{
		{"+44 7400 123456", "", "+447400123456", "GB"},
		{"07400 123456", "GB", "+447400123456", "GB"},
		{"+1 (202) 555-0147", "", "+12025550147", "US"},
		{"06 12 34 56 78", "fr", "+33612345678", "FR"},
	}
	for _, tc := range cases {
		n, err := Parse(tc.in, tc.region)
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.e164, n.E164)
		require.Equal(t, tc.country, n.Region)
	}
}

func TestParseRejectsNumbersOutsideAnyPlan(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"+999123456789", "+4412", "07400 123456", "hello", "+1 555 0100", "+447700900123"} {
		_, err := Parse(in, "")
		require.Error(t, err, in)
		require.True(t, errors.Is(err, ErrInvalid), in)
		require.NotContains(t, err.Error(), "123456", "masked")
		require.NotContains(t, err.Error(), "900123", "masked")
	}
}

func TestNewRequestWantsAMobileNumber(t *testing.T) {
	t.Parallel()
	r, err := NewRequest("r-1", "07400 123456", "hi", "", "GB")
	require.NoError(t, err)
	require.Equal(t, "+447400123456", r.To)

	_, err = NewRequest("r-2", "+44 20 7183 8750", "hi", "", "") // a London landline
	require.ErrorIs(t, err, ErrInvalid)
	require.ErrorContains(t, err, "not a mobile number")

	_, err = NewRequest("", "+447400123456", "", "", "")
	require.Error(t, err, "request rules still apply")
}
