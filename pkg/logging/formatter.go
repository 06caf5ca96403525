package logging

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/sirupsen/logrus"
)

// Formatter writes each entry as one JSON object — "timestamp" (RFC 3339,
// nanoseconds), "level", "message", then the fields in key order — masked as
// MaskingFormatter describes. It encodes common field types (strings, errors,
// numbers, booleans, times) without reflection, because every SQS record is
// logged; other types go through encoding/json unmasked.
//
// A field named timestamp, level or message is written as fields.<name>, as
// logrus's JSONFormatter does.
type Formatter struct{}

var _ logrus.Formatter = (*Formatter)(nil)

// Format implements logrus.Formatter.
func (f *Formatter) Format(e *logrus.Entry) ([]byte, error) {
	b := e.Buffer
	if b == nil {
		b = &bytes.Buffer{}
	}
	out := b.AvailableBuffer()
	out = append(out, `{"timestamp":"`...)
	out = e.Time.AppendFormat(out, time.RFC3339Nano)
	out = append(out, `","level":"`...)
	out = append(out, e.Level.String()...)
	out = append(out, `","message":`...)
	out = appendString(out, Mask(e.Message))
	if e.Caller != nil {
		out = append(out, `,"func":`...)
		out = appendString(out, e.Caller.Function)
		out = append(out, `,"file":`...)
		out = appendString(out, e.Caller.File+":"+strconv.Itoa(e.Caller.Line))
	}
	var arr [16]string
	keys := arr[:0]
	for k := range e.Data {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		out = append(out, ',')
		switch k {
		case "timestamp", "level", "message", "func", "file":
			out = appendString(out, "fields."+k)
		default:
			out = appendString(out, k)
		}
		out = append(out, ':')
		out = appendValue(out, k, e.Data[k])
	}
	out = append(out, '}', '\n')
	b.Write(out)
	return b.Bytes(), nil
}

func appendValue(out []byte, key string, v any) []byte {
	kind := classifyKey(key)
	if kind == keySecret {
		return appendString(out, Redacted)
	}
	switch x := v.(type) {
	case nil:
		return append(out, "null"...)
	case string:
		return appendString(out, maskValue(kind, x))
	case error:
		return appendString(out, maskValue(kind, x.Error()))
	case bool:
		return strconv.AppendBool(out, x)
	case int:
		return strconv.AppendInt(out, int64(x), 10)
	case int32:
		return strconv.AppendInt(out, int64(x), 10)
	case int64:
		return strconv.AppendInt(out, x, 10)
	case uint:
		return strconv.AppendUint(out, uint64(x), 10)
	case uint32:
		return strconv.AppendUint(out, uint64(x), 10)
	case uint64:
		return strconv.AppendUint(out, x, 10)
	case float64:
		return appendFloat(out, x)
	case float32:
		return appendFloat(out, float64(x))
	case time.Time:
		out = append(out, '"')
		out = x.AppendFormat(out, time.RFC3339Nano)
		return append(out, '"')
	case time.Duration:
		return strconv.AppendInt(out, int64(x), 10)
	}
	js, err := json.Marshal(v)
	if err != nil {
		return appendString(out, fmt.Sprintf("%v", v))
	}
	return append(out, js...)
}

func maskValue(kind keyKind, s string) string {
	if kind == keySafe {
		return s
	}
	if kind == keyPhone {
		return maskBarePhone(s)
	}
	return Mask(s)
}

func appendFloat(out []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return appendString(out, strconv.FormatFloat(f, 'g', -1, 64))
	}
	return strconv.AppendFloat(out, f, 'f', -1, 64)
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string: quotes, backslashes and control
// characters escaped, invalid UTF-8 replaced, HTML characters left as they are.
func appendString(out []byte, s string) []byte {
	out = append(out, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			out = append(out, s[start:i]...)
			switch c {
			case '"', '\\':
				out = append(out, '\\', c)
			case '\n':
				out = append(out, '\\', 'n')
			case '\r':
				out = append(out, '\\', 'r')
			case '\t':
				out = append(out, '\\', 't')
			default:
				out = append(out, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			out = append(out, s[start:i]...)
			out = append(out, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			out = append(out, s[start:i]...)
			out = append(out, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	out = append(out, s[start:]...)
	return append(out, '"')
}
