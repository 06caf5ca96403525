package localrt

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Pattern is a parsed event filter pattern in the syntax Lambda event source
// mappings (FilterCriteria) and SNS subscription filter policies share
// (https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html,
// https://docs.aws.amazon.com/sns/latest/dg/sns-subscription-filter-policies.html):
// an object whose keys name fields of the event and whose values are either
// a nested pattern or an array of conditions, any of which may match:
// exact values (string, number, null), {"prefix"}, {"suffix"},
// {"equals-ignore-case"}, {"anything-but": value | [values] | {"prefix"}},
// {"numeric": [op, n, (op, n)]} and {"exists": bool}. Every key of the
// pattern must match; a field the event does not have matches only
// {"exists": false}; an array in the event matches when any element does.
type Pattern struct {
	fields map[string]any
}

// ParsePattern parses and checks a filter pattern (JSON).
func ParsePattern(s string) (Pattern, error) {
	var fields map[string]any
	if err := json.Unmarshal([]byte(s), &fields); err != nil {
		return Pattern{}, fmt.Errorf("filter pattern is not a JSON object: %w", err)
	}
	if err := checkPattern(fields, ""); err != nil {
		return Pattern{}, err
	}
	return Pattern{fields: fields}, nil
}

func checkPattern(fields map[string]any, path string) error {
	var errs []error
	for k, v := range fields {
		switch r := v.(type) {
		case map[string]any:
			errs = append(errs, checkPattern(r, path+k+"."))
		case []any:
			for _, c := range r {
				errs = append(errs, checkCondition(c, path+k))
			}
		default:
			errs = append(errs, fmt.Errorf("filter pattern %s: a value must be an object or an array of conditions", path+k))
		}
	}
	return errors.Join(errs...)
}

func checkCondition(c any, path string) error {
	m, ok := c.(map[string]any)
	if !ok {
		return nil // an exact value
	}
	if len(m) != 1 {
		return fmt.Errorf("filter pattern %s: an operator object has exactly one key", path)
	}
	for op, arg := range m {
		switch op {
		case "prefix", "suffix", "equals-ignore-case":
			if _, ok := arg.(string); !ok {
				return fmt.Errorf("filter pattern %s: %s takes a string", path, op)
			}
		case "exists":
			if _, ok := arg.(bool); !ok {
				return fmt.Errorf("filter pattern %s: exists takes true or false", path)
			}
		case "anything-but":
			if p, ok := arg.(map[string]any); ok {
				if _, ok := p["prefix"].(string); !ok || len(p) != 1 {
					return fmt.Errorf("filter pattern %s: anything-but takes a value, a list or {\"prefix\": string}", path)
				}
			}
		case "numeric":
			if _, err := numericRange(arg); err != nil {
				return fmt.Errorf("filter pattern %s: %w", path, err)
			}
		default:
			return fmt.Errorf("filter pattern %s: unknown operator %q", path, op)
		}
	}
	return nil
}

type bound struct {
	op string
	n  float64
}

func numericRange(arg any) ([]bound, error) {
	list, ok := arg.([]any)
	if !ok || len(list) == 0 || len(list)%2 != 0 || len(list) > 4 {
		return nil, errors.New(`numeric takes [op, number] or [op, number, op, number]`)
	}
	var out []bound
	for i := 0; i < len(list); i += 2 {
		op, ok := list[i].(string)
		n, isNum := list[i+1].(float64)
		switch {
		case !ok || !isNum:
			return nil, errors.New(`numeric takes [op, number] or [op, number, op, number]`)
		case op != "=" && op != "<" && op != "<=" && op != ">" && op != ">=":
			return nil, fmt.Errorf("numeric operator %q is not one of = < <= > >=", op)
		}
		out = append(out, bound{op, n})
	}
	return out, nil
}

// Match reports whether the event (decoded JSON: map[string]any, []any,
// string, float64, bool, nil) matches the pattern.
func (p Pattern) Match(event any) bool {
	return matchFields(p.fields, event)
}

func matchFields(fields map[string]any, event any) bool {
	obj, _ := event.(map[string]any)
	for k, rule := range fields {
		val, present := obj[k]
		switch r := rule.(type) {
		case map[string]any:
			if !present || !matchFields(r, val) {
				return false
			}
		case []any:
			if !matchConditions(r, val, present) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

func matchConditions(conds []any, val any, present bool) bool {
	if arr, ok := val.([]any); ok && present {
		for _, el := range arr {
			if matchConditions(conds, el, true) {
				return true
			}
		}
		return false
	}
	for _, c := range conds {
		if matchCondition(c, val, present) {
			return true
		}
	}
	return false
}

func matchCondition(c, val any, present bool) bool {
	m, isOp := c.(map[string]any)
	if !isOp {
		return present && equalValue(c, val)
	}
	for op, arg := range m {
		if op == "exists" {
			return arg.(bool) == present
		}
		if !present {
			return false
		}
		s, isString := val.(string)
		switch op {
		case "prefix":
			return isString && strings.HasPrefix(s, arg.(string))
		case "suffix":
			return isString && strings.HasSuffix(s, arg.(string))
		case "equals-ignore-case":
			return isString && strings.EqualFold(s, arg.(string))
		case "anything-but":
			switch a := arg.(type) {
			case map[string]any:
				return isString && !strings.HasPrefix(s, a["prefix"].(string))
			case []any:
				for _, v := range a {
					if equalValue(v, val) {
						return false
					}
				}
				return true
			default:
				return !equalValue(a, val)
			}
		case "numeric":
			n, ok := val.(float64)
			if !ok {
				return false
			}
			bounds, _ := numericRange(arg)
			for _, b := range bounds {
				if !compareNumber(b.op, n, b.n) {
					return false
				}
			}
			return true
		}
	}
	return false
}

func equalValue(pattern, val any) bool {
	switch p := pattern.(type) {
	case nil:
		return val == nil
	case string:
		v, ok := val.(string)
		return ok && v == p
	case float64:
		v, ok := val.(float64)
		return ok && v == p
	case bool:
		v, ok := val.(bool)
		return ok && v == p
	}
	return false
}

func compareNumber(op string, v, n float64) bool {
	switch op {
	case "=":
		return v == n
	case "<":
		return v < n
	case "<=":
		return v <= n
	case ">":
		return v > n
	case ">=":
		return v >= n
	}
	return false
}
