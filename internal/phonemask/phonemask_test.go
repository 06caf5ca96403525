package phonemask_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/offload/offload/internal/phonemask"
)

func TestNumberKeepsCountryCodeAndLastTwoDigits(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"+447700900089":    "+44********89", // two-digit country code
		"447700900089":     "44********89",  // no "+": read the same way
		"+14155550142":     "+1********42",  // one-digit code
		"+79161234512":     "+7********12",
		"+353871234567":    "+353*******67", // three-digit code
		"+44 7700-900.089": "+44********89", // separators dropped
		"07400 000005":     "*********05",   // national: 0 is a trunk prefix, not a code
		"+44123":           "+*****",        // too short to mask safely: hidden
		"+44********89":    "+44********89", // already masked: unchanged
		"+44*12345678":     "+44******78",   // a star is not a licence: too many digits show
		"not a number":     "not a number",  // no digit, no number
		"":                 "",
	} {
		got := phonemask.Number(in)
		require.Equal(t, want, got, in)
		require.Equal(t, got, phonemask.Number(got), "masking twice changes nothing: %q", in)
		digits := strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, got)
		require.LessOrEqual(t, len(digits), 5, "at most a three-digit code and two digits show: %q", got)
	}
}

func TestDigitsIsNumberWithoutThePlus(t *testing.T) {
	t.Parallel()
	for _, d := range []string{"447700900089", "14155550142", "353871234567", "44123", "0740000005"} {
		require.Equal(t, "+"+phonemask.Digits(d), phonemask.Number("+"+d), d)
	}
}
