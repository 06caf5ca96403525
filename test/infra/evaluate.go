package infra

import (
	"encoding/json"
	"fmt"
	"path"
	"strings"
)

// Request is one API call as IAM authorises it: the action, the resource ARN
// it names and the request context's condition keys (single-valued).
type Request struct {
	Action   string
	Resource string
	Context  map[string]string
}

// Decision is the outcome of evaluating a request.
type Decision string

// The three outcomes of AWS's evaluation logic.
const (
	// Allowed: an identity policy allows the request and the boundary (if
	// any) allows it too, and nothing denies it.
	Allowed Decision = "allowed"
	// ExplicitDeny: a Deny statement of any policy matches.
	ExplicitDeny Decision = "explicit deny"
	// ImplicitDeny: no Deny matches, but the identity policies or the
	// boundary do not allow the request.
	ImplicitDeny Decision = "implicit deny"
)

// Evaluate decides req for a principal whose identity policies hold
// identity and whose permissions boundary holds boundary (nil: no
// boundary), following AWS's documented policy evaluation logic for
// identity-based policies and boundaries within one account:
//
//  1. an explicit Deny in any policy wins;
//  2. otherwise the request needs an Allow in an identity policy;
//  3. and, when a boundary is set, an Allow in the boundary too
//     (the effective permissions are the intersection).
//
// Conditions support the String*, Arn*, Bool and Null operators and their
// IfExists forms; an unknown operator is an error, never a silent match.
func Evaluate(req Request, identity, boundary []Grant) (Decision, error) {
	denied, err := anyMatch(req, "Deny", identity, boundary)
	if err != nil || denied {
		return ExplicitDeny, err
	}
	allowed, err := anyMatch(req, "Allow", identity)
	if err != nil || !allowed {
		return ImplicitDeny, err
	}
	if boundary != nil {
		inBoundary, err := anyMatch(req, "Allow", boundary)
		if err != nil || !inBoundary {
			return ImplicitDeny, err
		}
	}
	return Allowed, nil
}

func anyMatch(req Request, effect string, policies ...[]Grant) (bool, error) {
	for _, grants := range policies {
		for _, g := range grants {
			if g.Effect != effect || !actionMatches(g.Action, req.Action) || !globMatch(g.Resource, req.Resource) {
				continue
			}
			ok, err := conditionHolds(g.Condition, req.Context)
			if err != nil {
				return false, fmt.Errorf("%s: %w", g, err)
			}
			if ok {
				return true, nil
			}
		}
	}
	return false, nil
}

// actionMatches: action names are case-insensitive, * and ? are wildcards.
func actionMatches(pattern, action string) bool {
	return globMatch(strings.ToLower(pattern), strings.ToLower(action))
}

// globMatch is IAM's wildcard matching: * any run of characters (slashes
// and colons included), ? one character, everything else literal.
func globMatch(pattern, s string) bool {
	if !strings.ContainsAny(pattern, "*?") {
		return pattern == s
	}
	// path.Match treats '/' specially and knows '[': escape those, then
	// match segment-free by replacing '/' on both sides.
	const slash = "\x00"
	p := strings.NewReplacer("/", slash, "[", `\[`, `\`, `\\`).Replace(pattern)
	ok, err := path.Match(p, strings.ReplaceAll(s, "/", slash))
	return err == nil && ok
}

// conditionHolds evaluates a canonical condition block: every operator and
// every key must hold (AND); a key holds when any of its values matches (OR).
func conditionHolds(condition string, ctx map[string]string) (bool, error) {
	if condition == "" {
		return true, nil
	}
	var block map[string]map[string]any
	if err := json.Unmarshal([]byte(condition), &block); err != nil {
		return false, fmt.Errorf("condition %s: %w", condition, err)
	}
	for op, keys := range block {
		for key, raw := range keys {
			values, err := conditionValues(raw)
			if err != nil {
				return false, fmt.Errorf("condition %s %s: %w", op, key, err)
			}
			got, present := lookup(ctx, key)
			ok, err := operator(op, got, present, values)
			if err != nil {
				return false, err
			}
			if !ok {
				return false, nil
			}
		}
	}
	return true, nil
}

func conditionValues(raw any) ([]string, error) {
	switch v := raw.(type) {
	case string:
		return []string{v}, nil
	case bool:
		return []string{fmt.Sprint(v)}, nil
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			s, ok := x.(string)
			if !ok {
				return nil, fmt.Errorf("value %v is not a string", x)
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, fmt.Errorf("values %v are neither a string nor a list", raw)
}

// lookup: condition key names are case-insensitive.
func lookup(ctx map[string]string, key string) (string, bool) {
	for k, v := range ctx {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return "", false
}

// operator applies one condition operator. A key missing from the request
// makes a positive operator false and a negated one (…Not…) true, unless
// the operator ends in IfExists, which is then true (AWS docs: "Condition
// operators … IfExists").
func operator(op, got string, present bool, values []string) (bool, error) {
	base, ifExists := strings.CutSuffix(op, "IfExists")
	if base == "Null" {
		// Null: "true" asks for the key to be absent.
		for _, v := range values {
			if (v == "true") == !present {
				return true, nil
			}
		}
		return false, nil
	}
	var match func(pattern, s string) bool
	negated := false
	switch base {
	case "StringEquals", "ArnEquals":
		match = func(p, s string) bool { return p == s }
	case "StringNotEquals", "ArnNotEquals":
		match, negated = func(p, s string) bool { return p == s }, true
	case "StringEqualsIgnoreCase":
		match = strings.EqualFold
	case "StringLike", "ArnLike":
		match = globMatch
	case "StringNotLike", "ArnNotLike":
		match, negated = globMatch, true
	case "Bool":
		match = strings.EqualFold
	default:
		return false, fmt.Errorf("condition operator %q is not supported by this evaluator", op)
	}
	if !present {
		return ifExists || negated, nil
	}
	any := false
	for _, v := range values {
		if match(v, got) {
			any = true
			break
		}
	}
	return any != negated, nil
}
