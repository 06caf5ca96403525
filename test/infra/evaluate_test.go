package infra

import (
	"testing"

	"github.com/stretchr/testify/require"
)

const (
	acct        = "123456789012"
	boundaryARN = "arn:aws:iam::" + acct + ":policy/offload-dev-boundary"
	devRole     = "arn:aws:iam::" + acct + ":role/offload-dev-sms-sender"
)

// deployLike is the shape of the bootstrap's deploy-role IAM statements
// (terraform/bootstrap/iam.tf); TestBootstrap checks the applied ones.
var deployLike = `{"Statement":[
 {"Sid":"FunctionRoles","Effect":"Allow","Action":["iam:GetRole","iam:TagRole","iam:DeleteRole"],"Resource":"arn:aws:iam::` + acct + `:role/offload-dev-*"},
 {"Sid":"BoundedFunctionRoles","Effect":"Allow","Action":["iam:CreateRole","iam:PutRolePolicy","iam:DeleteRolePolicy","iam:AttachRolePolicy","iam:DetachRolePolicy","iam:PutRolePermissionsBoundary"],
  "Resource":"arn:aws:iam::` + acct + `:role/offload-dev-*","Condition":{"StringEquals":{"iam:PermissionsBoundary":"` + boundaryARN + `"}}},
 {"Sid":"PassFunctionRolesToLambda","Effect":"Allow","Action":"iam:PassRole","Resource":"arn:aws:iam::` + acct + `:role/offload-dev-*","Condition":{"StringEquals":{"iam:PassedToService":"lambda.amazonaws.com"}}},
 {"Sid":"DenyRoleChangesWithoutBoundary","Effect":"Deny","Action":["iam:CreateRole","iam:PutRolePolicy","iam:DeleteRolePolicy","iam:AttachRolePolicy","iam:DetachRolePolicy","iam:PutRolePermissionsBoundary"],
  "Resource":"*","Condition":{"StringNotEquals":{"iam:PermissionsBoundary":"` + boundaryARN + `"}}},
 {"Sid":"DenyPassingRolesBeyondLambda","Effect":"Deny","Action":"iam:PassRole","Resource":"*","Condition":{"StringNotEquals":{"iam:PassedToService":"lambda.amazonaws.com"}}},
 {"Sid":"DenyBoundaryRemoval","Effect":"Deny","Action":["iam:DeleteRolePermissionsBoundary"],"Resource":"*"},
 {"Sid":"DenyBoundaryPolicyChanges","Effect":"Deny","Action":["iam:CreatePolicyVersion","iam:SetDefaultPolicyVersion","iam:DeletePolicy"],"Resource":"` + boundaryARN + `"}
]}`

// boundaryLike is the shape of "<prefix>-boundary" (terraform/bootstrap/boundary.tf).
var boundaryLike = `{"Statement":[
 {"Sid":"Queues","Effect":"Allow","Action":["sqs:SendMessage","sqs:ReceiveMessage"],"Resource":"arn:aws:sqs:us-east-1:` + acct + `:offload-dev-*"},
 {"Sid":"Traces","Effect":"Allow","Action":["xray:PutTraceSegments"],"Resource":"*"},
 {"Sid":"EnvironmentKey","Effect":"Allow","Action":["kms:Decrypt"],"Resource":"arn:aws:kms:us-east-1:` + acct + `:key/*","Condition":{"StringEquals":{"aws:ResourceTag/offload:environment":"dev"}}},
 {"Sid":"NoIdentityChanges","Effect":"Deny","Action":["iam:*","sts:*"],"Resource":"*"}
]}`

func grantsOf(t *testing.T, doc string) []Grant {
	t.Helper()
	g, err := ParsePolicy(doc)
	require.NoError(t, err)
	return g
}

func decide(t *testing.T, req Request, identity, boundary []Grant) Decision {
	t.Helper()
	d, err := Evaluate(req, identity, boundary)
	require.NoError(t, err)
	return d
}

func TestDeployRoleChangesRolesOnlyUnderTheBoundary(t *testing.T) {
	t.Parallel()
	deploy := grantsOf(t, deployLike)
	bounded := map[string]string{"iam:PermissionsBoundary": boundaryARN}
	other := map[string]string{"iam:PermissionsBoundary": "arn:aws:iam::" + acct + ":policy/offload-dev-wide"}
	for _, tc := range []struct {
		name string
		req  Request
		want Decision
	}{
		{"CreateRole with the boundary", Request{"iam:CreateRole", devRole, bounded}, Allowed},
		{"CreateRole without a boundary", Request{"iam:CreateRole", devRole, nil}, ExplicitDeny},
		{"CreateRole with another boundary", Request{"iam:CreateRole", devRole, other}, ExplicitDeny},
		{"PutRolePolicy on a bounded role", Request{"iam:PutRolePolicy", devRole, bounded}, Allowed},
		{"PutRolePolicy on an unbounded role", Request{"iam:PutRolePolicy", devRole, nil}, ExplicitDeny},
		{"AttachRolePolicy on an unbounded role", Request{"iam:AttachRolePolicy", devRole, nil}, ExplicitDeny},
		{"swap the boundary for a wider one", Request{"iam:PutRolePermissionsBoundary", devRole, other}, ExplicitDeny},
		{"DeleteRolePermissionsBoundary", Request{"iam:DeleteRolePermissionsBoundary", devRole, bounded}, ExplicitDeny},
		{"new version of the boundary policy", Request{"iam:CreatePolicyVersion", boundaryARN, nil}, ExplicitDeny},
		{"default version of the boundary policy", Request{"iam:SetDefaultPolicyVersion", boundaryARN, nil}, ExplicitDeny},
		{"CreateRole with the boundary, another prefix", Request{"iam:CreateRole", "arn:aws:iam::" + acct + ":role/offload-prod-x", bounded}, ImplicitDeny},
		{"PassRole to Lambda", Request{"iam:PassRole", devRole, map[string]string{"iam:PassedToService": "lambda.amazonaws.com"}}, Allowed},
		{"PassRole to EC2", Request{"iam:PassRole", devRole, map[string]string{"iam:PassedToService": "ec2.amazonaws.com"}}, ExplicitDeny},
		{"PassRole of another prefix", Request{"iam:PassRole", "arn:aws:iam::" + acct + ":role/offload-prod-x", map[string]string{"iam:PassedToService": "lambda.amazonaws.com"}}, ImplicitDeny},
		{"TagRole (no boundary key exists)", Request{"iam:TagRole", devRole, nil}, Allowed},
		{"action names are case-insensitive", Request{"IAM:createrole", devRole, nil}, ExplicitDeny},
	} {
		require.Equal(t, tc.want, decide(t, tc.req, deploy, nil), tc.name)
	}
}

// A role created under the boundary with an inline *:* is still held to it.
func TestBoundedRoleWithStarStarStaysInsideTheBoundary(t *testing.T) {
	t.Parallel()
	star := grantsOf(t, `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)
	boundary := grantsOf(t, boundaryLike)
	devKey := map[string]string{"aws:ResourceTag/offload:environment": "dev"}
	for _, tc := range []struct {
		name string
		req  Request
		want Decision
	}{
		{"its own queue", Request{"sqs:SendMessage", "arn:aws:sqs:us-east-1:" + acct + ":offload-dev-sms", nil}, Allowed},
		{"another prefix's queue", Request{"sqs:SendMessage", "arn:aws:sqs:us-east-1:" + acct + ":offload-prod-sms", nil}, ImplicitDeny},
		{"a service outside the boundary", Request{"s3:GetObject", "arn:aws:s3:::offload-tfstate/offload/prod.tfstate", nil}, ImplicitDeny},
		{"IAM", Request{"iam:CreateRole", devRole, map[string]string{"iam:PermissionsBoundary": boundaryARN}}, ExplicitDeny},
		{"IAM PassRole", Request{"iam:PassRole", devRole, nil}, ExplicitDeny},
		{"STS", Request{"sts:AssumeRole", "arn:aws:iam::" + acct + ":role/offload-github-deploy-prod", nil}, ExplicitDeny},
		{"its environment's key", Request{"kms:Decrypt", "arn:aws:kms:us-east-1:" + acct + ":key/1", devKey}, Allowed},
		{"another environment's key", Request{"kms:Decrypt", "arn:aws:kms:us-east-1:" + acct + ":key/2", map[string]string{"aws:ResourceTag/offload:environment": "prod"}}, ImplicitDeny},
		{"an untagged key", Request{"kms:Decrypt", "arn:aws:kms:us-east-1:" + acct + ":key/3", nil}, ImplicitDeny},
	} {
		require.Equal(t, tc.want, decide(t, tc.req, star, boundary), tc.name)
		// Without the boundary the same *:* role reaches everything but the denies it lacks.
		if tc.want != Allowed {
			require.Equal(t, Allowed, decide(t, tc.req, star, nil), "%s: control without the boundary", tc.name)
		}
	}
}

func TestEvaluateOperators(t *testing.T) {
	t.Parallel()
	g := func(cond string) []Grant {
		return []Grant{{Effect: "Allow", Action: "s:A", Resource: "*", Condition: cond}}
	}
	req := func(ctx map[string]string) Request { return Request{Action: "s:A", Resource: "r", Context: ctx} }
	k := map[string]string{"K": "arn:aws:x:::a/b"}
	for _, tc := range []struct {
		cond string
		ctx  map[string]string
		want Decision
	}{
		{`{"StringEquals":{"k":"arn:aws:x:::a/b"}}`, k, Allowed}, // key names are case-insensitive
		{`{"StringEquals":{"k":["x","arn:aws:x:::a/b"]}}`, k, Allowed},
		{`{"StringEquals":{"k":"arn:aws:x:::a/B"}}`, k, ImplicitDeny}, // values are not
		{`{"StringLike":{"k":"arn:aws:x:::*"}}`, k, Allowed},
		{`{"ArnLike":{"k":"arn:aws:x:::a/?"}}`, k, Allowed},
		{`{"StringLike":{"k":"arn:aws:y:*"}}`, k, ImplicitDeny},
		{`{"StringEquals":{"k":"v"}}`, nil, ImplicitDeny},
		{`{"StringEqualsIfExists":{"k":"v"}}`, nil, Allowed},
		{`{"StringNotEquals":{"k":"v"}}`, nil, Allowed},
		{`{"Null":{"k":"true"}}`, nil, Allowed},
		{`{"Null":{"k":"false"}}`, nil, ImplicitDeny},
		{`{"StringEquals":{"k":"arn:aws:x:::a/b"},"Null":{"other":"false"}}`, k, ImplicitDeny},
	} {
		require.Equal(t, tc.want, decide(t, req(tc.ctx), g(tc.cond), nil), tc.cond)
	}
	_, err := Evaluate(req(k), g(`{"NumericLessThan":{"k":"1"}}`), nil)
	require.ErrorContains(t, err, "not supported")
}
