package batch

import (
	"fmt"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/offload/offload/pkg/message"
)

// accepted is one Accept declaration.
type accepted struct {
	typ      string
	versions []string
}

func (a accepted) has(version string) bool {
	for _, v := range a.versions {
		if v == version {
			return true
		}
	}
	return false
}

// maxDeclaredBytes bounds a type or version quoted in a reason: they come
// from the message.
const maxDeclaredBytes = 64

// checkVersion returns a message.ClassUnsupportedVersion error when the record
// declares a type or version no Accept lists. A missing attribute means the
// current one: a missing type matches every accepted type, a missing version
// every accepted version.
func (p *Processor) checkVersion(rec *events.SQSMessage) error {
	if len(p.accepts) == 0 {
		return nil
	}
	typ, hasType := stringAttr(rec, message.AttrType)
	ver, hasVer := stringAttr(rec, message.AttrVersion)
	if !hasType && !hasVer {
		return nil
	}
	for _, a := range p.accepts {
		if hasType && a.typ != typ {
			continue
		}
		if !hasVer || a.has(ver) {
			return nil
		}
	}
	quote := func(present bool, v string) string {
		if !present {
			return "(none)"
		}
		if len(v) > maxDeclaredBytes {
			v = strings.ToValidUTF8(v[:maxDeclaredBytes], "") + "..."
		}
		return fmt.Sprintf("%q", v)
	}
	var acc []string
	for _, a := range p.accepts {
		acc = append(acc, a.typ+" "+strings.Join(a.versions, ","))
	}
	return Permanent(message.ClassUnsupportedVersion, fmt.Sprintf("unsupported message: type %s version %s (accepted: %s)",
		quote(hasType, typ), quote(hasVer, ver), strings.Join(acc, "; ")), nil)
}

func stringAttr(rec *events.SQSMessage, name string) (string, bool) {
	a, ok := rec.MessageAttributes[name]
	if !ok || a.StringValue == nil {
		return "", false
	}
	return *a.StringValue, true
}
