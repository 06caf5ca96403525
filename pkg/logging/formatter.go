package logging

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/offload/offload/internal/jsonstr"
	"github.com/offload/offload/internal/phonemask"
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
	if b, ok := jsonstr.AppendInteger(out, v); ok {
		return b
	}
	switch x := v.(type) {
	case nil:
		return append(out, "null"...)
	case string:
		return appendString(out, maskValue(kind, x))
	case error:
		return appendString(out, maskValue(kind, x.Error()))
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
		return phonemask.Number(s)
	}
	return Mask(s)
}

func appendFloat(out []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return appendString(out, strconv.FormatFloat(f, 'g', -1, 64))
	}
	return strconv.AppendFloat(out, f, 'f', -1, 64)
}

// appendString appends s as a JSON string (internal/jsonstr).
func appendString(b []byte, s string) []byte { return jsonstr.Append(b, s) }
