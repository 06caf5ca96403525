package tracing

import (
	"math"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/offload/offload/internal/jsonstr"
)

// spanFields is what a document needs from a span's attributes.
type spanFields struct {
	origin                                          string
	awsCall                                         bool
	service, operation, region, requestID           string
	queueURL, tableName, topicARN                   string
	retries                                         int64
	method, url, path, scheme, host, port, clientIP string
	userAgent                                       string
	xff                                             bool
	status, length                                  int64
	fault, errFlag, throttle                        bool
	annotations, metadata                           []attribute.KeyValue
}

func readFields(attrs []attribute.KeyValue) spanFields {
	var f spanFields
	for _, a := range attrs {
		k := string(a.Key)
		switch a.Key {
		case AttrOrigin:
			f.origin = a.Value.AsString()
		case keyRPCSystem:
			f.awsCall = f.awsCall || a.Value.AsString() == awsAPI
		case keyRPCMethod:
			m := a.Value.AsString()
			if svc, op, ok := strings.Cut(m, "/"); ok {
				f.service = svc
				if f.operation == "" {
					f.operation = op
				}
			}
		case AttrOperation:
			f.operation = a.Value.AsString()
		case keyRegion:
			f.region = a.Value.AsString()
		case keyRequestID:
			f.requestID = a.Value.AsString()
		case AttrQueueURL:
			f.queueURL = a.Value.AsString()
		case AttrTableName:
			if v := a.Value.AsStringSlice(); len(v) > 0 {
				f.tableName = v[0]
			}
		case AttrTopicARN:
			f.topicARN = a.Value.AsString()
		case AttrRetries:
			f.retries = a.Value.AsInt64()
		case keyHTTPMethod:
			f.method = a.Value.AsString()
		case keyURLFull:
			f.url = a.Value.AsString()
		case keyURLPath:
			f.path = a.Value.AsString()
		case keyURLScheme:
			f.scheme = a.Value.AsString()
		case keyServerAddress:
			f.host = a.Value.AsString()
		case keyServerPort:
			f.port = strconv.FormatInt(a.Value.AsInt64(), 10)
		case keyClientAddress:
			f.clientIP = a.Value.AsString()
		case keyUserAgent:
			f.userAgent = a.Value.AsString()
		case AttrXForwardedFor:
			f.xff = a.Value.AsBool()
		case keyStatus:
			f.status = a.Value.AsInt64()
		case keyBodySize:
			f.length = a.Value.AsInt64()
		case AttrFault:
			f.fault = f.fault || a.Value.AsBool()
		case AttrError:
			f.errFlag = f.errFlag || a.Value.AsBool()
		case AttrThrottle:
			f.throttle = f.throttle || a.Value.AsBool()
		default:
			switch {
			case strings.HasPrefix(k, AttrMetadataPrefix):
				f.metadata = append(f.metadata, a)
			case !strings.Contains(k, "."):
				f.annotations = append(f.annotations, a)
			}
		}
	}
	return f
}

// isSegment reports whether s is a service entry: no parent, or a server or
// consumer span whose parent is in another process.
func isSegment(s sdktrace.ReadOnlySpan) bool {
	p := s.Parent()
	if !p.IsValid() {
		return true
	}
	k := s.SpanKind()
	return p.IsRemote() && (k == trace.SpanKindServer || k == trace.SpanKindConsumer)
}

// appendDocument appends s as an X-Ray segment document; service, when set,
// names segments.
func appendDocument(b []byte, s sdktrace.ReadOnlySpan, service string) []byte {
	f := readFields(s.Attributes())
	segment := isSegment(s)
	kind := s.SpanKind()
	name := s.Name()
	switch {
	case segment && service != "":
		name = service
	case f.awsCall && f.service != "":
		name = f.service
	case !segment && kind == trace.SpanKindClient && f.host != "" && !f.awsCall:
		name = f.host
	}
	sc := s.SpanContext()
	b = append(b, `{"name":`...)
	b = appendString(b, name)
	b = append(b, `,"id":"`...)
	b = append(b, sc.SpanID().String()...)
	b = append(b, `","trace_id":"`...)
	b = append(b, xrayTraceID(sc.TraceID())...)
	b = append(b, '"')
	if p := s.Parent(); p.IsValid() {
		b = append(b, `,"parent_id":"`...)
		b = append(b, p.SpanID().String()...)
		b = append(b, '"')
	}
	if !segment {
		b = append(b, `,"type":"subsegment"`...)
	}
	b = append(b, `,"start_time":`...)
	b = appendTime(b, s.StartTime())
	b = append(b, `,"end_time":`...)
	b = appendTime(b, s.EndTime())
	if segment && f.origin != "" {
		b = append(b, `,"origin":`...)
		b = appendString(b, f.origin)
	}
	if f.awsCall {
		// An AWS call's server.address (otelaws puts the queue URL there, for
		// OTel-instrumented services) is not an HTTP host.
		f.host, f.port, f.path = "", "", ""
	}
	hasHTTP := f.method != "" || f.url != "" || f.clientIP != "" || f.userAgent != "" || f.status != 0
	switch {
	case f.awsCall && !segment:
		b = append(b, `,"namespace":"aws"`...)
	case hasHTTP && kind == trace.SpanKindClient && !segment:
		b = append(b, `,"namespace":"remote"`...)
	}
	switch {
	case f.status == 429:
		f.throttle, f.errFlag = true, true
	case f.status >= 500:
		f.fault = true
	case f.status >= 400:
		f.errFlag = true
	}
	if s.Status().Code == codes.Error && !f.fault && !f.errFlag && !f.throttle {
		f.fault = true
	}
	if f.errFlag || f.throttle {
		b = append(b, `,"error":true`...)
	}
	if f.fault {
		b = append(b, `,"fault":true`...)
	}
	if f.throttle {
		b = append(b, `,"throttle":true`...)
	}
	b = appendCause(b, s.Events(), kind == trace.SpanKindClient)
	if hasHTTP {
		b = appendHTTP(b, &f)
	}
	if f.awsCall {
		b = appendAWS(b, &f)
	}
	if len(f.annotations) > 0 {
		b = append(b, `,"annotations":{`...)
		for i, a := range f.annotations {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, string(a.Key))
			b = append(b, ':')
			b = appendValue(b, a.Value)
		}
		b = append(b, '}')
	}
	links := s.Links()
	if len(f.metadata) > 0 || len(links) > 0 {
		b = append(b, `,"metadata":{`...)
		if len(f.metadata) > 0 {
			b = append(b, `"default":{`...)
			for i, m := range f.metadata {
				if i > 0 {
					b = append(b, ',')
				}
				b = appendString(b, strings.TrimPrefix(string(m.Key), AttrMetadataPrefix))
				b = append(b, ':')
				b = append(b, m.Value.AsString()...)
			}
			b = append(b, '}')
		}
		if len(links) > 0 {
			if len(f.metadata) > 0 {
				b = append(b, ',')
			}
			b = append(b, `"otel":{"links":[`...)
			for i, l := range links {
				if i > 0 {
					b = append(b, ',')
				}
				b = append(b, `{"trace_id":"`...)
				b = append(b, xrayTraceID(l.SpanContext.TraceID())...)
				b = append(b, `","id":"`...)
				b = append(b, l.SpanContext.SpanID().String()...)
				b = append(b, `"}`...)
			}
			b = append(b, "]}"...)
		}
		b = append(b, '}')
	}
	return append(b, '}')
}

func appendCause(b []byte, events []sdktrace.Event, remote bool) []byte {
	n := 0
	for _, e := range events {
		if e.Name != "exception" || n >= maxExceptions {
			continue
		}
		var msg, typ string
		for _, a := range e.Attributes {
			switch a.Key {
			case keyExceptionMsg:
				msg = a.Value.AsString()
			case keyExceptionType:
				typ = a.Value.AsString()
			}
		}
		if n == 0 {
			b = append(b, `,"cause":{"exceptions":[`...)
		} else {
			b = append(b, ',')
		}
		n++
		b = append(b, `{"id":"`...)
		b = append(b, exceptionID(e, n)...)
		b = append(b, `","message":`...)
		b = appendString(b, msg)
		b = append(b, `,"type":`...)
		b = appendString(b, typ)
		if remote {
			b = append(b, `,"remote":true`...)
		}
		b = append(b, '}')
	}
	if n > 0 {
		b = append(b, "]}"...)
	}
	return b
}

// exceptionID is a 16-hex-digit id for the nth exception of a span, from
// its time.
func exceptionID(e sdktrace.Event, n int) string {
	v := uint64(e.Time.UnixNano())*31 + uint64(n)
	s := strconv.FormatUint(v, 16)
	if len(s) < 16 {
		s = strings.Repeat("0", 16-len(s)) + s
	}
	return s[len(s)-16:]
}

func appendHTTP(b []byte, f *spanFields) []byte {
	b = append(b, `,"http":{`...)
	n := len(b)
	url := f.url
	if url == "" && f.host != "" {
		scheme := f.scheme
		if scheme == "" {
			scheme = "http"
		}
		url = scheme + "://" + f.host
		if f.port != "" && f.port != "80" && f.port != "443" {
			url += ":" + f.port
		}
		url += f.path
	}
	if f.method != "" || url != "" || f.clientIP != "" || f.userAgent != "" {
		b = append(b, `"request":{`...)
		m := len(b)
		b = appendField(b, m, "method", f.method)
		b = appendField(b, m, "url", url)
		b = appendField(b, m, "client_ip", f.clientIP)
		b = appendField(b, m, "user_agent", f.userAgent)
		if f.xff {
			b = append(b, `,"x_forwarded_for":true`...)
		}
		b = append(b, '}')
	}
	if f.status != 0 || f.length > 0 {
		if len(b) > n {
			b = append(b, ',')
		}
		b = append(b, `"response":{`...)
		if f.status != 0 {
			b = append(b, `"status":`...)
			b = strconv.AppendInt(b, f.status, 10)
		}
		if f.length > 0 {
			if f.status != 0 {
				b = append(b, ',')
			}
			b = append(b, `"content_length":`...)
			b = strconv.AppendInt(b, f.length, 10)
		}
		b = append(b, '}')
	}
	return append(b, '}')
}

func appendAWS(b []byte, f *spanFields) []byte {
	b = append(b, `,"aws":{`...)
	n := len(b)
	b = appendField(b, n, "operation", f.operation)
	b = appendField(b, n, "region", f.region)
	b = appendField(b, n, "request_id", f.requestID)
	b = appendField(b, n, "queue_url", f.queueURL)
	b = appendField(b, n, "table_name", f.tableName)
	b = appendField(b, n, "topic_arn", f.topicARN)
	if len(b) > n {
		b = append(b, ',')
	}
	b = append(b, `"retries":`...)
	b = strconv.AppendInt(b, f.retries, 10)
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

func appendValue(b []byte, v attribute.Value) []byte {
	switch v.Type() {
	case attribute.BOOL:
		return strconv.AppendBool(b, v.AsBool())
	case attribute.INT64:
		return strconv.AppendInt(b, v.AsInt64(), 10)
	case attribute.FLOAT64:
		f := v.AsFloat64()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return append(b, "null"...)
		}
		return strconv.AppendFloat(b, f, 'g', -1, 64)
	}
	return appendString(b, v.String())
}

// appendString appends s as a JSON string (internal/jsonstr).
func appendString(b []byte, s string) []byte { return jsonstr.Append(b, s) }

// trimmed is a span without metadata, events and links, for a document too
// big for one datagram.
type trimmed struct{ sdktrace.ReadOnlySpan }

func (t trimmed) Attributes() []attribute.KeyValue {
	var out []attribute.KeyValue
	for _, a := range t.ReadOnlySpan.Attributes() {
		if !strings.HasPrefix(string(a.Key), AttrMetadataPrefix) {
			out = append(out, a)
		}
	}
	return out
}

func (trimmed) Events() []sdktrace.Event { return nil }
func (trimmed) Links() []sdktrace.Link   { return nil }
