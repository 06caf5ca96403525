package logging

import (
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/sirupsen/logrus"

	"github.com/offload/offload/internal/phonemask"
)

// Redacted replaces the value of a secret-looking field.
const Redacted = "[REDACTED]"

// MaskingFormatter masks every entry before Inner formats it:
//   - a field whose key looks secret (password, passwd, secret, token, auth,
//     authorization, credential, api key, private key, signature, cookie) is
//     replaced by "[REDACTED]" whatever its value;
//   - a field whose key names a phone number (phone, msisdn, destination, to)
//     has its digits masked even without a leading "+";
//   - in the message and in every string or error field, E.164-looking
//     numbers ("+" then 8–15 digits, single spaces, dots or dashes allowed
//     between digits) are masked;
//   - phone numbers are masked by the one policy pkg/sms's MaskNumber uses
//     too (internal/phonemask): the country code and the last two digits stay
//     (+447700900089 → +44********89);
//   - "key=value" / "key: value" pairs with a secret-looking key have their
//     value replaced.
//
// Values of other types (numbers, maps, structs) are passed through: log
// fields, not payloads.
type MaskingFormatter struct {
	// Inner formats the masked entry.
	Inner logrus.Formatter
}

// Format masks a copy of entry and formats it with Inner. The entry passed
// in is not modified.
func (f *MaskingFormatter) Format(entry *logrus.Entry) ([]byte, error) {
	masked := *entry
	masked.Message = Mask(entry.Message)
	var data logrus.Fields
	for k, v := range entry.Data {
		nv, changed := maskField(k, v)
		if !changed {
			continue
		}
		if data == nil {
			data = make(logrus.Fields, len(entry.Data))
			for k2, v2 := range entry.Data {
				data[k2] = v2
			}
		}
		data[k] = nv
	}
	if data != nil {
		masked.Data = data
	}
	return f.Inner.Format(&masked)
}

func maskField(key string, v any) (any, bool) {
	if v == nil {
		return v, false
	}
	kind := classifyKey(key)
	if kind == keySecret {
		return Redacted, true
	}
	if kind == keySafe {
		return v, false
	}
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case error:
		return Mask(x.Error()), true // the JSON formatter would call Error() anyway
	default:
		return v, false
	}
	if kind == keyPhone {
		m := phonemask.Number(s)
		return m, m != s
	}
	m := Mask(s)
	return m, m != s
}

// secretWords is the one masking policy for secrets: a field key, or the key
// of a key=value pair in text, containing one of these words (any case; the
// "_" of a word stands for "_", "-" or nothing) is secret-looking.
var secretWords = []string{"password", "passwd", "secret", "token", "auth", "credential", "api_key", "private_key", "signature", "cookie"}

// secretKeyWords are secretWords spelled out with every separator, for
// classifyKey.
var secretKeyWords = func() []string {
	var out []string
	for _, w := range secretWords {
		if !strings.Contains(w, "_") {
			out = append(out, w)
			continue
		}
		for _, sep := range []string{"", "_", "-"} {
			out = append(out, strings.ReplaceAll(w, "_", sep))
		}
	}
	return out
}()

type keyKind uint8

const (
	keyPlain keyKind = iota
	keySecret
	keyPhone
	// keySafe: standard fields whose values come from AWS metadata (ids,
	// ARNs, outcomes), never from a payload; they are not scanned.
	keySafe
)

var safeKeys = map[string]bool{
	FieldRequestID: true, FieldFunction: true, FieldMessageID: true, FieldTraceID: true,
	FieldOutcome: true, FieldQueue: true, FieldErrorClass: true,
}

// keyKinds caches classifyKey: field keys come from code, so the set is small;
// the cache stops growing at maxKeyKinds entries all the same.
var (
	keyKinds     sync.Map // string → keyKind
	keyKindCount atomic.Int32
)

const maxKeyKinds = 4096

func classifyKey(key string) keyKind {
	if k, ok := keyKinds.Load(key); ok {
		return k.(keyKind)
	}
	k := keyPlain
	switch {
	case safeKeys[key]:
		k = keySafe
	case isSecretKeyUncached(key):
		k = keySecret
	case containsFold(key, "phone") || containsFold(key, "msisdn") ||
		strings.EqualFold(key, "destination") || strings.EqualFold(key, "to"):
		k = keyPhone
	}
	if keyKindCount.Load() < maxKeyKinds {
		if _, loaded := keyKinds.LoadOrStore(key, k); !loaded {
			keyKindCount.Add(1)
		}
	}
	return k
}

func isSecretKeyUncached(key string) bool {
	for _, w := range secretKeyWords {
		if containsFold(key, w) {
			return true
		}
	}
	return false
}

// containsFold reports whether s contains the lower-case ASCII word sub,
// ignoring ASCII case, without allocating.
func containsFold(s, sub string) bool {
	n := len(sub)
	for i := 0; i+n <= len(s); i++ {
		j := 0
		for ; j < n; j++ {
			c := s[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != sub[j] {
				break
			}
		}
		if j == n {
			return true
		}
	}
	return false
}

// secretPair matches key=value and key: value where the key looks secret,
// including "Authorization: Bearer xyz" and JSON-ish "token":"xyz".
// Compiled on first use (only text hasSecretWord flags needs it), not at
// package init: every function's cold start paid for it.
var secretPair = sync.OnceValue(func() *regexp.Regexp {
	alt := make([]string, len(secretWords))
	for i, w := range secretWords {
		alt[i] = strings.ReplaceAll(w, "_", `[_\-]?`)
	}
	return regexp.MustCompile(`(?i)([a-z0-9_.\-]*(?:` + strings.Join(alt, "|") + `)[a-z0-9_.\-]*["']?\s*[:=]\s*["']?)((?:bearer|basic)\s+)?[^\s"',;&}]+`)
})

// Mask returns s with E.164-looking phone numbers and secret key/value pairs
// masked, as MaskingFormatter does for messages and string fields.
func Mask(s string) string {
	if strings.IndexByte(s, '+') >= 0 {
		s = maskE164(s)
	}
	if hasSecretWord(s) {
		s = secretPair().ReplaceAllString(s, "${1}${2}"+Redacted)
	}
	return s
}

// secretAnchors holds, by lower-case first letter, a piece of every secret
// word (the part after its last "_", else its first four letters): text
// holding none of them holds no secret word.
var secretAnchors = func() (a [256][]string) {
	for _, w := range secretWords {
		anchor := w[:min(4, len(w))]
		if i := strings.LastIndexByte(w, '_'); i >= 0 {
			anchor = w[i+1:]
		}
		if !slices.Contains(a[anchor[0]], anchor) {
			a[anchor[0]] = append(a[anchor[0]], anchor)
		}
	}
	return a
}()

// hasSecretWord reports, in one pass, whether s may contain a secret-looking
// key (a cheap filter before the regular expression).
func hasSecretWord(s string) bool {
	for i := 0; i < len(s); i++ {
		for _, anchor := range secretAnchors[s[i]|0x20] {
			if hasPrefixFold(s[i:], anchor) {
				return true
			}
		}
	}
	return false
}

func hasPrefixFold(s, lowerPrefix string) bool {
	return len(s) >= len(lowerPrefix) && containsFold(s[:len(lowerPrefix)], lowerPrefix)
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isSep(c byte) bool { return c == ' ' || c == '-' || c == '.' }

// maskE164 masks every "+" followed by 8–15 digits (single separators allowed
// between digits) that is not glued to a preceding digit or letter.
func maskE164(s string) string {
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); i++ {
		if s[i] != '+' || i+1 >= len(s) || !isDigit(s[i+1]) {
			continue
		}
		if i > 0 && (isDigit(s[i-1]) || isLetter(s[i-1])) {
			continue
		}
		digits := make([]byte, 0, 16)
		end := i + 1
		j := i + 1
		for j < len(s) {
			if isDigit(s[j]) {
				digits = append(digits, s[j])
				j++
				end = j
				continue
			}
			if isSep(s[j]) && j+1 < len(s) && isDigit(s[j+1]) && len(digits) > 0 {
				j++
				continue
			}
			break
		}
		if len(digits) < 8 || len(digits) > 15 || (end < len(s) && isLetter(s[end])) {
			i = end - 1
			continue
		}
		if b.Len() == 0 {
			b.Grow(len(s))
		}
		b.WriteString(s[last:i])
		b.WriteByte('+')
		b.WriteString(phonemask.Digits(string(digits)))
		last = end
		i = end - 1
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

func isLetter(c byte) bool { return ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') }
