package infra

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// Grant is one effect on one action for one resource: a policy statement with
// several actions and resources expands to every (action, resource) pair.
// Condition is the statement's condition block as canonical JSON ("" when it
// has none), so that dropping or changing a condition is a difference too.
type Grant struct {
	Effect    string
	Action    string
	Resource  string
	Condition string
}

// Allow returns an Allow grant without condition.
func Allow(action, resource string) Grant {
	return Grant{Effect: "Allow", Action: action, Resource: resource}
}

// Deny returns a Deny grant without condition.
func Deny(action, resource string) Grant {
	return Grant{Effect: "Deny", Action: action, Resource: resource}
}

// Allows returns an Allow grant for every pair of actions and resources.
func Allows(actions []string, resources ...string) []Grant {
	var out []Grant
	for _, a := range actions {
		for _, r := range resources {
			out = append(out, Allow(a, r))
		}
	}
	return out
}

// String formats the grant as "Allow dynamodb:PutItem on arn:...".
func (g Grant) String() string {
	s := g.Effect + " " + g.Action + " on " + g.Resource
	if g.Condition != "" {
		s += " when " + g.Condition
	}
	return s
}

// oneOrMany is an IAM policy field that is a string or a list of strings.
type oneOrMany []string

func (o *oneOrMany) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*o = oneOrMany{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("want a string or a list of strings, got %s", b)
	}
	*o = many
	return nil
}

type statement struct {
	Sid         string          `json:"Sid"`
	Effect      string          `json:"Effect"`
	Action      oneOrMany       `json:"Action"`
	Resource    oneOrMany       `json:"Resource"`
	Condition   json.RawMessage `json:"Condition"`
	NotAction   json.RawMessage `json:"NotAction"`
	NotResource json.RawMessage `json:"NotResource"`
	Principal   json.RawMessage `json:"Principal"`
}

// statements is the Statement field: one statement or a list of them.
type statements []statement

func (s *statements) UnmarshalJSON(b []byte) error {
	var one statement
	if err := json.Unmarshal(b, &one); err == nil && one.Effect != "" {
		*s = statements{one}
		return nil
	}
	var many []statement
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*s = many
	return nil
}

// ParsePolicy expands an identity policy document into its grants. It accepts
// the URL-encoded form the IAM API returns. NotAction and NotResource are
// rejected: they grant everything except a list, which an exact allow-list
// cannot describe.
func ParsePolicy(doc string) ([]Grant, error) {
	if strings.HasPrefix(strings.TrimSpace(doc), "%") {
		decoded, err := url.QueryUnescape(doc)
		if err != nil {
			return nil, fmt.Errorf("decode policy document: %w", err)
		}
		doc = decoded
	}
	var policy struct {
		Statement statements `json:"Statement"`
	}
	if err := json.Unmarshal([]byte(doc), &policy); err != nil {
		return nil, fmt.Errorf("parse policy document: %w", err)
	}
	var grants []Grant
	for i, st := range policy.Statement {
		name := st.Sid
		if name == "" {
			name = fmt.Sprintf("#%d", i)
		}
		switch {
		case len(st.NotAction) > 0:
			return nil, fmt.Errorf("statement %s uses NotAction", name)
		case len(st.NotResource) > 0:
			return nil, fmt.Errorf("statement %s uses NotResource", name)
		case len(st.Principal) > 0:
			return nil, fmt.Errorf("statement %s has a Principal: not an identity policy", name)
		case st.Effect != "Allow" && st.Effect != "Deny":
			return nil, fmt.Errorf("statement %s has effect %q", name, st.Effect)
		case len(st.Action) == 0 || len(st.Resource) == 0:
			return nil, fmt.Errorf("statement %s needs Action and Resource", name)
		}
		condition, err := canonicalJSON(st.Condition)
		if err != nil {
			return nil, fmt.Errorf("statement %s condition: %w", name, err)
		}
		for _, a := range st.Action {
			for _, r := range st.Resource {
				grants = append(grants, Grant{Effect: st.Effect, Action: a, Resource: r, Condition: condition})
			}
		}
	}
	return grants, nil
}

// canonicalJSON re-encodes a JSON value with sorted keys; "" for none.
func canonicalJSON(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", err
	}
	b, err := json.Marshal(v) // maps are encoded with sorted keys
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// DiffGrants compares the grants a role holds with the grants it should hold
// and returns one line per difference: every extra grant (a widened resource,
// an added action, a lost condition) and every missing one. Nil means equal.
func DiffGrants(got, want []Grant) []string {
	have := map[Grant]bool{}
	for _, g := range got {
		have[g] = true
	}
	need := map[Grant]bool{}
	for _, g := range want {
		need[g] = true
	}
	var diff []string
	for g := range have {
		if !need[g] {
			diff = append(diff, "unexpected: "+g.String())
		}
	}
	for g := range need {
		if !have[g] {
			diff = append(diff, "missing: "+g.String())
		}
	}
	slices.Sort(diff)
	return diff
}

// WildcardViolations reports every Allow grant with a wildcard in its action,
// and every Allow grant on resource "*" whose action is not in allowedStar (the
// actions AWS authorises only against "*", each with its documented reason).
func WildcardViolations(grants []Grant, allowedStar map[string]string) []string {
	var out []string
	for _, g := range grants {
		if g.Effect != "Allow" {
			continue
		}
		if strings.Contains(g.Action, "*") {
			out = append(out, "wildcard action: "+g.String())
		}
		if g.Resource == "*" {
			if _, ok := allowedStar[g.Action]; !ok {
				out = append(out, "resource \"*\" not allowed for this action: "+g.String())
			}
		}
	}
	slices.Sort(out)
	return out
}

// IAMAPI is the subset of *iam.Client operations used by RoleGrants.
type IAMAPI interface {
	ListRolePolicies(ctx context.Context, in *iam.ListRolePoliciesInput, opts ...func(*iam.Options)) (*iam.ListRolePoliciesOutput, error)
	GetRolePolicy(ctx context.Context, in *iam.GetRolePolicyInput, opts ...func(*iam.Options)) (*iam.GetRolePolicyOutput, error)
	ListAttachedRolePolicies(ctx context.Context, in *iam.ListAttachedRolePoliciesInput, opts ...func(*iam.Options)) (*iam.ListAttachedRolePoliciesOutput, error)
	GetPolicy(ctx context.Context, in *iam.GetPolicyInput, opts ...func(*iam.Options)) (*iam.GetPolicyOutput, error)
	GetPolicyVersion(ctx context.Context, in *iam.GetPolicyVersionInput, opts ...func(*iam.Options)) (*iam.GetPolicyVersionOutput, error)
}

// RoleGrants returns every grant of a role: all its inline policies and the
// default version of every managed policy attached to it.
func RoleGrants(ctx context.Context, api IAMAPI, role string) ([]Grant, error) {
	var grants []Grant

	inline := iam.NewListRolePoliciesPaginator(api, &iam.ListRolePoliciesInput{RoleName: aws.String(role)})
	for inline.HasMorePages() {
		page, err := inline.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list inline policies of %s: %w", role, err)
		}
		for _, name := range page.PolicyNames {
			out, err := api.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String(name)})
			if err != nil {
				return nil, fmt.Errorf("get inline policy %s of %s: %w", name, role, err)
			}
			g, err := ParsePolicy(aws.ToString(out.PolicyDocument))
			if err != nil {
				return nil, fmt.Errorf("inline policy %s of %s: %w", name, role, err)
			}
			grants = append(grants, g...)
		}
	}

	attached := iam.NewListAttachedRolePoliciesPaginator(api, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(role)})
	for attached.HasMorePages() {
		page, err := attached.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list attached policies of %s: %w", role, err)
		}
		for _, p := range page.AttachedPolicies {
			policy, err := api.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: p.PolicyArn})
			if err != nil {
				return nil, fmt.Errorf("get policy %s: %w", aws.ToString(p.PolicyArn), err)
			}
			version, err := api.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{
				PolicyArn: p.PolicyArn, VersionId: policy.Policy.DefaultVersionId,
			})
			if err != nil {
				return nil, fmt.Errorf("get default version of policy %s: %w", aws.ToString(p.PolicyArn), err)
			}
			g, err := ParsePolicy(aws.ToString(version.PolicyVersion.Document))
			if err != nil {
				return nil, fmt.Errorf("attached policy %s of %s: %w", aws.ToString(p.PolicyArn), role, err)
			}
			grants = append(grants, g...)
		}
	}
	return grants, nil
}
