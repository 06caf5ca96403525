package tracing

import (
	"encoding/json"
	"math"
	"strconv"
	"time"

	"github.com/offload/offload/internal/jsonstr"
)

// appendDocument appends s as an X-Ray segment document
// (https://docs.aws.amazon.com/xray/latest/devguide/xray-api-segmentdocuments.html),
// with the subsegments it carries nested. top is true for a document sent on
// its own: it then names its trace and parent, and a subsegment says
// "type":"subsegment". s must have ended.
func appendDocument(b []byte, s *xspan, top bool) []byte {
	b = append(b, `{"name":`...)
	b = appendString(b, s.name)
	b = append(b, `,"id":"`...)
	b = append(b, s.id...)
	b = append(b, '"')
	if top {
		b = append(b, `,"trace_id":"`...)
		b = append(b, s.traceID...)
		b = append(b, '"')
		if s.parentID != "" {
			b = append(b, `,"parent_id":"`...)
			b = append(b, s.parentID...)
			b = append(b, '"')
		}
		if !s.segment {
			b = append(b, `,"type":"subsegment"`...)
		}
	}
	b = append(b, `,"start_time":`...)
	b = appendTime(b, s.start)
	b = append(b, `,"end_time":`...)
	b = appendTime(b, s.end)
	if s.segment && s.origin != "" {
		b = append(b, `,"origin":`...)
		b = appendString(b, s.origin)
	}
	switch {
	case s.aws != nil:
		b = append(b, `,"namespace":"aws"`...)
	case s.http != nil && s.kind == KindClient:
		b = append(b, `,"namespace":"remote"`...)
	}
	if s.flags&flagError != 0 {
		b = append(b, `,"error":true`...)
	}
	if s.flags&flagFault != 0 {
		b = append(b, `,"fault":true`...)
	}
	if s.flags&flagThrottle != 0 {
		b = append(b, `,"throttle":true`...)
	}
	if len(s.exceptions) > 0 {
		b = append(b, `,"cause":{"exceptions":[`...)
		for i, e := range s.exceptions {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"id":"`...)
			b = append(b, e.id...)
			b = append(b, `","message":`...)
			b = appendString(b, e.message)
			b = append(b, `,"type":`...)
			b = appendString(b, e.typ)
			if e.remote {
				b = append(b, `,"remote":true`...)
			}
			b = append(b, '}')
		}
		b = append(b, "]}"...)
	}
	if h := s.http; h != nil {
		b = appendHTTP(b, h)
	}
	if a := s.aws; a != nil {
		b = appendAWS(b, a)
	}
	if len(s.annotations) > 0 {
		b = append(b, `,"annotations":{`...)
		for i, a := range s.annotations {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, a.key)
			b = append(b, ':')
			b = appendValue(b, a.value)
		}
		b = append(b, '}')
	}
	if len(s.metadata) > 0 {
		b = append(b, `,"metadata":{"default":{`...)
		for i, m := range s.metadata {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, m.key)
			b = append(b, ':')
			b = appendValue(b, m.value)
		}
		b = append(b, "}}"...)
	}
	if len(s.children) > 0 {
		b = append(b, `,"subsegments":[`...)
		for i, c := range s.children {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendDocument(b, c, false)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

func appendHTTP(b []byte, h *HTTP) []byte {
	b = append(b, `,"http":{`...)
	n := len(b)
	if h.Method != "" || h.URL != "" || h.ClientIP != "" || h.UserAgent != "" {
		b = append(b, `"request":{`...)
		m := len(b)
		b = appendField(b, m, "method", h.Method)
		b = appendField(b, m, "url", h.URL)
		b = appendField(b, m, "client_ip", h.ClientIP)
		b = appendField(b, m, "user_agent", h.UserAgent)
		if h.XForwardedFor {
			b = append(b, `,"x_forwarded_for":true`...)
		}
		b = append(b, '}')
	}
	if h.Status != 0 || h.ContentLength > 0 {
		if len(b) > n {
			b = append(b, ',')
		}
		b = append(b, `"response":{`...)
		if h.Status != 0 {
			b = append(b, `"status":`...)
			b = strconv.AppendInt(b, int64(h.Status), 10)
		}
		if h.ContentLength > 0 {
			if h.Status != 0 {
				b = append(b, ',')
			}
			b = append(b, `"content_length":`...)
			b = strconv.AppendInt(b, h.ContentLength, 10)
		}
		b = append(b, '}')
	}
	return append(b, '}')
}

func appendAWS(b []byte, a *AWSCall) []byte {
	b = append(b, `,"aws":{`...)
	n := len(b)
	b = appendField(b, n, "operation", a.Operation)
	b = appendField(b, n, "region", a.Region)
	b = appendField(b, n, "request_id", a.RequestID)
	b = appendField(b, n, "queue_url", a.QueueURL)
	b = appendField(b, n, "table_name", a.TableName)
	b = appendField(b, n, "topic_arn", a.TopicARN)
	if len(b) > n {
		b = append(b, ',')
	}
	b = append(b, `"retries":`...)
	b = strconv.AppendInt(b, int64(a.Retries), 10)
	return append(b, '}')
}

// appendField appends "key":"value" (comma first unless at start) when value
// is not empty.
func appendField(b []byte, start int, key, value string) []byte {
	if value == "" {
		return b
	}
	if len(b) > start {
		b = append(b, ',')
	}
	b = append(b, '"')
	b = append(b, key...)
	b = append(b, `":`...)
	return appendString(b, value)
}

// appendTime appends t as epoch seconds with microseconds.
func appendTime(b []byte, t time.Time) []byte {
	us := t.UnixMicro()
	b = strconv.AppendInt(b, us/1e6, 10)
	b = append(b, '.')
	frac := us % 1e6
	for d := int64(100000); d > 0; d /= 10 {
		b = append(b, byte('0'+frac/d%10))
	}
	return b
}

func appendValue(b []byte, v any) []byte {
	if out, ok := jsonstr.AppendInteger(b, v); ok {
		return out
	}
	switch x := v.(type) {
	case string:
		return appendString(b, x)
	case float32:
		return appendFloat(b, float64(x), 32)
	case float64:
		return appendFloat(b, x, 64)
	case nil:
		return append(b, "null"...)
	}
	j, err := json.Marshal(v)
	if err != nil {
		return appendString(b, "unencodable "+err.Error())
	}
	return append(b, j...)
}

func appendFloat(b []byte, f float64, bits int) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	return strconv.AppendFloat(b, f, 'g', -1, bits)
}

// appendString appends s as a JSON string (internal/jsonstr).
func appendString(b []byte, s string) []byte { return jsonstr.Append(b, s) }

// sanitizeKey makes an annotation key X-Ray accepts: letters, digits and
// underscores (others become underscores), at most 500 bytes.
func sanitizeKey(k string) string {
	ok := len(k) > 0 && len(k) <= 500
	for i := 0; ok && i < len(k); i++ {
		ok = isKeyByte(k[i])
	}
	if ok {
		return k
	}
	if k == "" {
		return "_"
	}
	if len(k) > 500 {
		k = k[:500]
	}
	out := []byte(k)
	for i, c := range out {
		if !isKeyByte(c) {
			out[i] = '_'
		}
	}
	return string(out)
}

func isKeyByte(c byte) bool {
	return c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}
