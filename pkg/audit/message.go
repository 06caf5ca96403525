package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/offload/offload/pkg/message"
)

// TimeLayout is how auditTime is written to the table and to JSON: UTC with
// seven fractional digits, .NET's round-trip ("O") format. Fixed width keeps
// the range key sortable as text.
const TimeLayout = "2006-01-02T15:04:05.0000000Z"

// MaxTextBytes is the largest auditText accepted. DynamoDB items are limited
// to 400 KB; this leaves room for the keys and metadata.
const MaxTextBytes = 350 * 1024

// Message is one audit record as producers send it.
type Message struct {
	// MessageID is the producer's id for the record, its idempotency key.
	// Empty when the producer sent none; the consumer then keys the record
	// by the SQS MessageId.
	MessageID string
	// AuditText is what happened. Required, at most MaxTextBytes.
	AuditText string
	// AuditTime is when it happened, set by the producer before sending.
	AuditTime time.Time
}

type wireMessage struct {
	MessageID *string         `json:"messageId,omitempty"`
	AuditText *string         `json:"auditText,omitempty"`
	AuditTime json.RawMessage `json:"auditTime,omitempty"`
}

// MarshalJSON writes the article's property names and auditTime in TimeLayout.
func (m Message) MarshalJSON() ([]byte, error) {
	w := struct {
		MessageID string `json:"messageId,omitempty"`
		AuditText string `json:"auditText"`
		AuditTime string `json:"auditTime"`
	}{m.MessageID, m.AuditText, FormatTime(m.AuditTime)}
	return json.Marshal(w)
}

// UnmarshalJSON reads the article's property names (case-insensitively, as
// Newtonsoft.Json does) and every auditTime form ParseTime accepts. It does not
// validate; Decode does.
func (m *Message) UnmarshalJSON(data []byte) error {
	var w wireMessage
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	return m.fromWire(w)
}

// fromWire sets m from a decoded wire message.
func (m *Message) fromWire(w wireMessage) error {
	*m = Message{}
	if w.MessageID != nil {
		m.MessageID = *w.MessageID
	}
	if w.AuditText != nil {
		m.AuditText = *w.AuditText
	}
	raw := bytes.TrimSpace(w.AuditTime)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil
	}
	s, ok := plainString(raw)
	if !ok {
		if err := json.Unmarshal(raw, &s); err != nil {
			return fmt.Errorf("auditTime: want a string, got %s", truncate(string(raw), 40))
		}
	}
	t, err := ParseTime(s)
	if err != nil {
		return err
	}
	m.AuditTime = t
	return nil
}

// plainString returns the text of raw, valid JSON, when it is a string with
// no escapes (every date-time producers send): the quotes stripped are then
// all the decoding there is. Otherwise json.Unmarshal decodes it.
func plainString(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' || bytes.IndexByte(raw, '\\') >= 0 {
		return "", false
	}
	return string(raw[1 : len(raw)-1]), true
}

// FormatTime renders t as the table stores it (TimeLayout, UTC).
func FormatTime(t time.Time) string {
	return t.UTC().Format(TimeLayout)
}

var zoneLessLayouts = []string{"2006-01-02T15:04:05", "2006-01-02 15:04:05"}

// ParseTime reads the date-time forms .NET producers emit: ISO 8601 with "Z"
// or an offset and 0–7 fractional digits, ISO 8601 without a zone (read as
// UTC), and Microsoft's "/Date(milliseconds[+hhmm])/".
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "/Date(") || strings.HasPrefix(s, `\/Date(`) {
		return parseMSDate(s)
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	for _, layout := range zoneLessLayouts {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("auditTime %q: not an ISO 8601 date-time", truncate(s, 40))
}

func parseMSDate(s string) (time.Time, error) {
	inner := strings.TrimPrefix(strings.TrimPrefix(s, `\`), "/Date(")
	end := strings.Index(inner, ")")
	if end < 0 {
		return time.Time{}, fmt.Errorf("auditTime %q: unterminated /Date()/", truncate(s, 40))
	}
	inner = inner[:end]
	offset := ""
	if i := strings.LastIndexAny(inner, "+-"); i > 0 {
		inner, offset = inner[:i], inner[i:]
	}
	ms, err := strconv.ParseInt(inner, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("auditTime %q: bad milliseconds", truncate(s, 40))
	}
	if offset != "" && (len(offset) != 5 || strings.Trim(offset[1:], "0123456789") != "") {
		return time.Time{}, fmt.Errorf("auditTime %q: bad offset", truncate(s, 40))
	}
	// The milliseconds are since the Unix epoch in UTC; the offset only says
	// which zone the producer was in.
	return time.UnixMilli(ms).UTC(), nil
}

// kind names the audit message in decode and validation errors.
const kind = "audit message"

// Limits bounds what Decode accepts as a plausible audit time.
type Limits struct {
	// Earliest is the oldest acceptable auditTime. Default 2000-01-01 UTC:
	// older values are almost always an unset .NET DateTime (0001-01-01).
	Earliest time.Time
	// MaxSkew is how far in the future of Now an auditTime may be. Default 24h.
	MaxSkew time.Duration
	// Now returns the current time. Default time.Now.
	Now func() time.Time
}

func (l Limits) withDefaults() Limits {
	if l.Earliest.IsZero() {
		l.Earliest = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if l.MaxSkew == 0 {
		l.MaxSkew = 24 * time.Hour
	}
	if l.Now == nil {
		l.Now = time.Now
	}
	return l
}

// Decode parses and validates one queue body with the default Limits.
func Decode(body []byte) (Message, error) {
	return Limits{}.Decode(body)
}

// Decode parses and validates one queue body. The error is a
// *message.DecodeError or a *message.ValidationError listing every broken
// rule; both say their class and that they are permanent, so a consumer
// returns them as they are (pkg/batch dead-letters the record with the
// error's message as its reason, which never contains the audit text).
func (l Limits) Decode(body []byte) (Message, error) {
	l = l.withDefaults()
	if !utf8.Valid(body) {
		return Message{}, &message.DecodeError{Kind: kind, Err: errors.New("body is not UTF-8")}
	}
	// Straight into the wire form: json.Unmarshal into a Message would
	// check the whole body twice (once for Message, once in UnmarshalJSON).
	var w wireMessage
	if err := json.Unmarshal(body, &w); err != nil {
		return Message{}, &message.DecodeError{Kind: kind, Err: err}
	}
	var m Message
	if err := m.fromWire(w); err != nil {
		return Message{}, &message.DecodeError{Kind: kind, Err: err}
	}
	v := message.ValidationError{Kind: kind}
	if strings.TrimSpace(m.AuditText) == "" {
		v.Add("auditText", "is empty")
	} else if len(m.AuditText) > MaxTextBytes {
		v.Add("auditText", fmt.Sprintf("is %d bytes, more than %d", len(m.AuditText), MaxTextBytes))
	}
	switch now := l.Now(); {
	case m.AuditTime.IsZero():
		v.Add("auditTime", "is missing or 0001-01-01T00:00:00 (an unset .NET DateTime)")
	case m.AuditTime.Before(l.Earliest):
		v.Add("auditTime", fmt.Sprintf("%s is before %s", FormatTime(m.AuditTime), FormatTime(l.Earliest)))
	case m.AuditTime.After(now.Add(l.MaxSkew)):
		v.Add("auditTime", fmt.Sprintf("%s is more than %s in the future", FormatTime(m.AuditTime), l.MaxSkew))
	}
	if len(m.MessageID) > 1024 {
		v.Add("messageId", fmt.Sprintf("is %d bytes, more than 1024", len(m.MessageID)))
	}
	if err := v.Err(); err != nil {
		return Message{}, err
	}
	return m, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
