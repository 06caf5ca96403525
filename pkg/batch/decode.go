package batch

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
)

// Validator is implemented by message types that check their own contract
// after decoding. DecodeJSON calls Validate on a pointer to the decoded value.
type Validator interface {
	Validate() error
}

// DecodeOption adjusts DecodeJSON.
type DecodeOption func(*json.Decoder)

// DisallowUnknownFields makes a body with fields the type does not declare a
// decode error. By default they are ignored, so producers can add fields
// before consumers know them.
func DisallowUnknownFields() DecodeOption {
	return func(d *json.Decoder) { d.DisallowUnknownFields() }
}

// DecodeJSON decodes body as one JSON value of type T, then validates it when
// *T implements Validator. Every failure is a *PermanentError — ClassDecode
// for an empty body, invalid or truncated JSON, a wrong type, trailing data
// or (with DisallowUnknownFields) an unknown field; ClassValidation for a
// Validate error — whose Reason names the problem without quoting the body.
func DecodeJSON[T any](body string, opts ...DecodeOption) (T, error) {
	var v T
	if strings.TrimSpace(body) == "" {
		return v, Permanent(ClassDecode, "empty body", nil)
	}
	dec := json.NewDecoder(strings.NewReader(body))
	for _, o := range opts {
		o(dec)
	}
	if err := dec.Decode(&v); err != nil {
		var zero T
		return zero, Permanent(ClassDecode, decodeReason(err, reflect.TypeFor[T]().String()), err)
	}
	if off := dec.InputOffset(); hasMore(dec) {
		var zero T
		return zero, Permanent(ClassDecode, fmt.Sprintf("trailing data after the JSON value at byte %d", off), nil)
	}
	if val, ok := any(&v).(Validator); ok {
		if err := val.Validate(); err != nil {
			var zero T
			if pe, ok := AsPermanent(err); ok {
				return zero, pe
			}
			return zero, Permanent(ClassValidation, oneLine(err.Error()), err)
		}
	}
	return v, nil
}

// hasMore reports whether anything but white space follows the first value.
func hasMore(dec *json.Decoder) bool {
	rest, _ := io.ReadAll(dec.Buffered())
	if len(bytes.TrimSpace(rest)) > 0 {
		return true
	}
	_, err := dec.Token()
	return err != io.EOF
}

// decodeReason describes a json error without payload values: offsets, field
// paths and type names only.
func decodeReason(err error, target string) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("invalid JSON at byte %d", syn.Offset)
	case errors.As(err, &typ):
		if safeName(typ.Field) {
			return fmt.Sprintf("field %q: JSON %s does not fit %s", typ.Field, typ.Value, typ.Type)
		}
		return fmt.Sprintf("JSON %s does not fit %s", typ.Value, typ.Type)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "truncated JSON"
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		if safeName(name) {
			return fmt.Sprintf("unknown field %q", name)
		}
		return "unknown field"
	default:
		return "body does not decode as " + target
	}
}

// safeName reports whether a field name from the body is a plain identifier
// path short enough to quote in a reason (anything else could be payload).
func safeName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c == '_' || c == '.' || c == '-' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9')) {
			return false
		}
	}
	return true
}

// oneLine keeps a reason to one line of at most 200 bytes.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		s = strings.ToValidUTF8(s[:200], "") + "…"
	}
	return s
}
