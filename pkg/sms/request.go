package sms

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/offload/offload/internal/phonemask"
	"github.com/offload/offload/pkg/message"
)

// MaxBodyChars is the longest body accepted: ten concatenated segments, the
// most SNS and Twilio deliver as one message.
const MaxBodyChars = 1600

// Request asks for one text message. It is the sms queue's message body and
// what a Provider sends: one type from the queue to the provider.
type Request struct {
	// RequestID is the idempotency key: one RequestID, at most one text.
	RequestID string `json:"requestId"`
	// To is the destination in E.164 form, e.g. "+447700900123".
	To string `json:"to"`
	// Body is the text. Never logged.
	Body string `json:"body"`
	// SenderID is an optional alphanumeric sender id (1–11 characters) or an
	// E.164 number to send from; the provider's default when empty.
	SenderID string `json:"senderId,omitempty"`
}

// kind names the request in decode and validation errors.
const kind = "sms request"

// Decode parses and validates one queue body. The error is a
// *message.DecodeError or a *message.ValidationError listing every broken
// rule; both say their class and that they are permanent, so a consumer
// returns them as they are. Their messages never quote the body and mask
// any number.
func Decode(body []byte) (Request, error) {
	var r Request
	if err := json.Unmarshal(body, &r); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			return Request{}, &message.DecodeError{Kind: kind, Err: fmt.Errorf("invalid JSON at offset %d", syn.Offset)}
		}
		// Type errors name the field, never its value.
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) {
			return Request{}, &message.DecodeError{Kind: kind, Err: fmt.Errorf("field %s: want %s, got %s", typ.Field, typ.Type, typ.Value)}
		}
		return Request{}, &message.DecodeError{Kind: kind, Err: errors.New("not a JSON object")}
	}
	if err := r.Validate(); err != nil {
		return Request{}, err
	}
	return r, nil
}

// Validate reports every broken rule at once, as a *message.ValidationError.
func (r Request) Validate() error {
	v := message.ValidationError{Kind: kind}
	if strings.TrimSpace(r.RequestID) == "" {
		v.Add("requestId", "is empty")
	} else if len(r.RequestID) > 256 {
		v.Add("requestId", fmt.Sprintf("is %d bytes, more than 256", len(r.RequestID)))
	}
	if err := CheckE164(r.To); err != nil {
		v.Add("to", err.Error())
	}
	switch n := utf8.RuneCountInString(r.Body); {
	case strings.TrimSpace(r.Body) == "":
		v.Add("body", "is empty")
	case !utf8.ValidString(r.Body):
		v.Add("body", "is not UTF-8")
	case n > MaxBodyChars:
		v.Add("body", fmt.Sprintf("is %d characters, more than %d", n, MaxBodyChars))
	}
	if r.SenderID != "" && !validSenderID(r.SenderID) {
		v.Add("senderId", "must be 1–11 letters, digits or spaces with at least one letter, or an E.164 number")
	}
	return v.Err()
}

// PayloadHash identifies the request's content, so that a request id reused
// for a different text is detected rather than silently treated as done.
func (r Request) PayloadHash() string {
	h := sha256.New()
	for _, s := range []string{r.To, r.Body, r.SenderID} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// CheckE164 checks the shape of an E.164 number: "+", a non-zero first digit,
// 7 to 15 digits in all, nothing else. It does not know numbering plans; the
// provider (or package sms/phone, for producers) does.
func CheckE164(number string) error {
	if !strings.HasPrefix(number, "+") {
		return fmt.Errorf("%s is not in E.164 form (must start with +)", MaskNumber(number))
	}
	digits := number[1:]
	if len(digits) < 7 || len(digits) > 15 {
		return fmt.Errorf("%s has %d digits; E.164 allows 7 to 15", MaskNumber(number), len(digits))
	}
	if digits[0] == '0' {
		return fmt.Errorf("%s: a country code never starts with 0", MaskNumber(number))
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return fmt.Errorf("%s holds a character that is not a digit", MaskNumber(number))
		}
	}
	return nil
}

func validSenderID(s string) bool {
	if CheckE164(s) == nil {
		return true
	}
	if len(s) > 11 {
		return false
	}
	letter := false
	for _, c := range s {
		switch {
		case c < unicode.MaxASCII && unicode.IsLetter(c):
			letter = true
		case c >= '0' && c <= '9', c == ' ':
		default:
			return false
		}
	}
	return letter
}

// MaskNumber hides a phone number for logs, errors and dead-letter reasons
// with the repository's one masking policy, the one pkg/logging applies to
// phone fields and to numbers in text: the country code and the last two
// digits stay ("+447700900123" → "+44********23", "+14155550142" →
// "+1********42"); a national number keeps only its last two digits; a
// number too short to mask safely is hidden entirely; separators are
// dropped. Masking an already masked number changes nothing.
func MaskNumber(number string) string {
	return phonemask.Number(number)
}
