// Package phonemask is the repository's one policy for showing a phone
// number in a log line, an error or a dead-letter reason: the number keeps
// its country code and its last two digits, every other digit is hidden
// (+447700900089 → +44********89, +14155550142 → +1********42).
//
// pkg/sms (sms.MaskNumber, in the errors it returns) and pkg/logging (phone
// fields and E.164 numbers found in text) both call it, so a number masked
// upstream and masked again by the logger reads the same, and no path shows
// more of a number than another.
//
// The rules, in full:
//   - the country code is the ITU code the digits start with (1 and 7 are
//     one digit long, the codes in twoDigitCodes two, every other three); a
//     number without "+" is read the same way, except that a leading 0 is a
//     national trunk prefix, not a country code, and nothing of the front
//     is shown;
//   - a number with fewer than four digits beyond what would be shown is
//     hidden entirely;
//   - only the digits count: separators and other characters are dropped,
//     a leading "+" is kept;
//   - a value that already shows stars and at most five digits (what the
//     policy shows at most) is left as it is, so masking twice changes
//     nothing;
//   - a value with no digit is not a number and is left as it is.
package phonemask

import "strings"

// Number masks a value known to be a phone number (see the package rules).
func Number(s string) string {
	digits := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) {
			digits = append(digits, s[i])
		}
	}
	if len(digits) == 0 {
		return s
	}
	if strings.Contains(s, "*") && len(digits) <= maxShown {
		return s
	}
	prefix := ""
	if strings.HasPrefix(strings.TrimSpace(s), "+") {
		prefix = "+"
	}
	return prefix + Digits(string(digits))
}

// Digits masks the digits of a number, without its "+": the country code and
// the last two stay. E.164 scanners that have already split the digits out
// call it directly.
func Digits(d string) string {
	keep := countryCodeLen(d)
	if len(d) < keep+4 {
		return strings.Repeat("*", len(d))
	}
	return d[:keep] + strings.Repeat("*", len(d)-keep-2) + d[len(d)-2:]
}

// maxShown is the most digits the policy shows: a three-digit country code
// and the last two.
const maxShown = 5

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// twoDigitCodes are the ITU country codes of length two; 1 and 7 are the only
// one-digit codes, everything else has three digits.
var twoDigitCodes = map[string]bool{
	"20": true, "27": true, "30": true, "31": true, "32": true, "33": true, "34": true, "36": true,
	"39": true, "40": true, "41": true, "43": true, "44": true, "45": true, "46": true, "47": true,
	"48": true, "49": true, "51": true, "52": true, "53": true, "54": true, "55": true, "56": true,
	"57": true, "58": true, "60": true, "61": true, "62": true, "63": true, "64": true, "65": true,
	"66": true, "81": true, "82": true, "84": true, "86": true, "90": true, "91": true, "92": true,
	"93": true, "94": true, "95": true, "98": true,
}

func countryCodeLen(d string) int {
	switch {
	case d == "" || d[0] == '0':
		return 0
	case d[0] == '1' || d[0] == '7':
		return 1
	case len(d) >= 2 && twoDigitCodes[d[:2]]:
		return 2
	default:
		return min(3, len(d))
	}
}
