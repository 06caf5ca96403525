package tracing

import (
	"github.com/aws/aws-xray-sdk-go/v2/header"
)

// parseHeader parses an X-Ray trace header with the SDK's header package and
// drops a Root or Parent that is not well formed (a malformed Root drops the
// whole header: the trace cannot be continued).
func parseHeader(s string) *header.Header {
	h := header.FromString(s)
	if !validTraceID(h.TraceID) {
		h.TraceID, h.ParentID = "", ""
	}
	if !validSpanID(h.ParentID) {
		h.ParentID = ""
	}
	return h
}

// validTraceID reports whether id is "1-<8 hex>-<24 hex>".
func validTraceID(id string) bool {
	if len(id) != 35 || id[0] != '1' || id[1] != '-' || id[10] != '-' {
		return false
	}
	return isHex(id[2:10]) && isHex(id[11:])
}

// validSpanID reports whether id is 16 hex digits.
func validSpanID(id string) bool { return len(id) == 16 && isHex(id) }

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') && (c < 'A' || c > 'F') {
			return false
		}
	}
	return true
}
