package infra

import (
	"context"
	"fmt"
	"net/url"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/stretchr/testify/require"
)

const tableARN = "arn:aws:dynamodb:us-east-1:123456789012:table/offload-t-AuditMessages"

func TestParsePolicyExpandsStringAndListForms(t *testing.T) {
	t.Parallel()
	grants, err := ParsePolicy(`{
	  "Version": "2012-10-17",
	  "Statement": [
	    {"Sid": "One", "Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": "` + tableARN + `"},
	    {"Sid": "Two", "Effect": "Allow", "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], "Resource": ["*"]},
	    {"Sid": "Three", "Effect": "Deny", "Action": ["sns:Publish"], "Resource": "arn:aws:sns:*:*:*",
	     "Condition": {"StringEquals": {"b": "2", "a": "1"}}}
	  ]}`)
	require.NoError(t, err)
	require.Equal(t, []Grant{
		Allow("dynamodb:PutItem", tableARN),
		Allow("xray:PutTraceSegments", "*"),
		Allow("xray:PutTelemetryRecords", "*"),
		{Effect: "Deny", Action: "sns:Publish", Resource: "arn:aws:sns:*:*:*", Condition: `{"StringEquals":{"a":"1","b":"2"}}`},
	}, grants)
}

func TestParsePolicyAcceptsASingleStatementObject(t *testing.T) {
	t.Parallel()
	grants, err := ParsePolicy(`{"Statement": {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:us-east-1:123456789012:q-dlq"}}`)
	require.NoError(t, err)
	require.Equal(t, []Grant{Allow("sqs:SendMessage", "arn:aws:sqs:us-east-1:123456789012:q-dlq")}, grants)
}

func TestParsePolicyDecodesTheIAMAPIsURLEncoding(t *testing.T) {
	t.Parallel()
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"dynamodb:PutItem","Resource":"` + tableARN + `"}]}`
	grants, err := ParsePolicy(url.QueryEscape(doc))
	require.NoError(t, err)
	require.Equal(t, []Grant{Allow("dynamodb:PutItem", tableARN)}, grants)
}

func TestParsePolicyRejectsWhatAnAllowListCannotDescribe(t *testing.T) {
	t.Parallel()
	for name, doc := range map[string]string{
		"NotAction":   `{"Statement":[{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}]}`,
		"NotResource": `{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","NotResource":"arn:aws:s3:::x/*"}]}`,
		"Principal":   `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"sqs:SendMessage","Resource":"*"}]}`,
		"bad effect":  `{"Statement":[{"Effect":"allow","Action":"sqs:SendMessage","Resource":"*"}]}`,
		"no resource": `{"Statement":[{"Effect":"Allow","Action":"sqs:SendMessage"}]}`,
		"not JSON":    `{"Statement":`,
	} {
		_, err := ParsePolicy(doc)
		require.Error(t, err, name)
	}
}

func TestDiffGrantsIsEmptyForTheExactSet(t *testing.T) {
	t.Parallel()
	want := []Grant{Allow("dynamodb:PutItem", tableARN), Allow("xray:PutTraceSegments", "*")}
	got := []Grant{Allow("xray:PutTraceSegments", "*"), Allow("dynamodb:PutItem", tableARN), Allow("dynamodb:PutItem", tableARN)}
	require.Empty(t, DiffGrants(got, want))
}

// The negative tests: a policy wider than the allow-list must be reported.
func TestDiffGrantsReportsAWidenedResource(t *testing.T) {
	t.Parallel()
	want := []Grant{Allow("dynamodb:PutItem", tableARN)}
	got := []Grant{Allow("dynamodb:PutItem", "arn:aws:dynamodb:us-east-1:123456789012:table/*")}
	require.Equal(t, []string{
		"missing: Allow dynamodb:PutItem on " + tableARN,
		"unexpected: Allow dynamodb:PutItem on arn:aws:dynamodb:us-east-1:123456789012:table/*",
	}, DiffGrants(got, want))
}

func TestDiffGrantsReportsAnExtraAction(t *testing.T) {
	t.Parallel()
	want := []Grant{Allow("dynamodb:PutItem", tableARN)}
	got := []Grant{Allow("dynamodb:PutItem", tableARN), Allow("dynamodb:Scan", tableARN)}
	require.Equal(t, []string{"unexpected: Allow dynamodb:Scan on " + tableARN}, DiffGrants(got, want))
}

func TestDiffGrantsReportsALostConditionAndAMissingDeny(t *testing.T) {
	t.Parallel()
	fenced := Grant{Effect: "Allow", Action: "sns:Publish", Resource: "*", Condition: `{"Bool":{"aws:SecureTransport":"true"}}`}
	want := []Grant{fenced, Deny("sns:Publish", "arn:aws:sns:*:*:*")}
	got := []Grant{Allow("sns:Publish", "*")}
	require.Equal(t, []string{
		"missing: Allow sns:Publish on * when {\"Bool\":{\"aws:SecureTransport\":\"true\"}}",
		"missing: Deny sns:Publish on arn:aws:sns:*:*:*",
		"unexpected: Allow sns:Publish on *",
	}, DiffGrants(got, want))
}

func TestWildcardViolations(t *testing.T) {
	t.Parallel()
	allowed := map[string]string{"xray:PutTraceSegments": "no resource-level permissions"}
	got := WildcardViolations([]Grant{
		Allow("xray:PutTraceSegments", "*"),              // documented
		Allow("dynamodb:PutItem", "*"),                   // not documented
		Allow("sqs:*", "arn:aws:sqs:us-east-1:1:q"),      // wildcard action
		Deny("sns:Publish", "*"),                         // denies never widen
		Allow("logs:PutLogEvents", "arn:aws:logs:x:1:*"), // exact-set check's job
	}, allowed)
	require.Equal(t, []string{
		`resource "*" not allowed for this action: Allow dynamodb:PutItem on *`,
		"wildcard action: Allow sqs:* on arn:aws:sqs:us-east-1:1:q",
	}, got)
}

// fakeIAM serves one inline and one attached policy per role.
type fakeIAM struct {
	inline   map[string]string // policy name -> document
	attached map[string]string // policy ARN -> document of its default version
}

func (f *fakeIAM) ListRolePolicies(_ context.Context, in *iam.ListRolePoliciesInput, _ ...func(*iam.Options)) (*iam.ListRolePoliciesOutput, error) {
	out := &iam.ListRolePoliciesOutput{}
	for name := range f.inline {
		out.PolicyNames = append(out.PolicyNames, name)
	}
	return out, nil
}

func (f *fakeIAM) GetRolePolicy(_ context.Context, in *iam.GetRolePolicyInput, _ ...func(*iam.Options)) (*iam.GetRolePolicyOutput, error) {
	doc, ok := f.inline[aws.ToString(in.PolicyName)]
	if !ok {
		return nil, fmt.Errorf("no inline policy %s", aws.ToString(in.PolicyName))
	}
	return &iam.GetRolePolicyOutput{PolicyDocument: aws.String(url.QueryEscape(doc))}, nil
}

func (f *fakeIAM) ListAttachedRolePolicies(_ context.Context, _ *iam.ListAttachedRolePoliciesInput, _ ...func(*iam.Options)) (*iam.ListAttachedRolePoliciesOutput, error) {
	out := &iam.ListAttachedRolePoliciesOutput{}
	for arn := range f.attached {
		out.AttachedPolicies = append(out.AttachedPolicies, iamtypes.AttachedPolicy{PolicyArn: aws.String(arn)})
	}
	return out, nil
}

func (f *fakeIAM) GetPolicy(_ context.Context, in *iam.GetPolicyInput, _ ...func(*iam.Options)) (*iam.GetPolicyOutput, error) {
	return &iam.GetPolicyOutput{Policy: &iamtypes.Policy{Arn: in.PolicyArn, DefaultVersionId: aws.String("v3")}}, nil
}

func (f *fakeIAM) GetPolicyVersion(_ context.Context, in *iam.GetPolicyVersionInput, _ ...func(*iam.Options)) (*iam.GetPolicyVersionOutput, error) {
	if aws.ToString(in.VersionId) != "v3" {
		return nil, fmt.Errorf("asked for version %s, not the default", aws.ToString(in.VersionId))
	}
	return &iam.GetPolicyVersionOutput{PolicyVersion: &iamtypes.PolicyVersion{Document: aws.String(url.QueryEscape(f.attached[aws.ToString(in.PolicyArn)]))}}, nil
}

// A widening hidden in an attached managed policy is found as surely as one
// in an inline policy.
func TestRoleGrantsCollectsInlineAndAttachedPolicies(t *testing.T) {
	t.Parallel()
	api := &fakeIAM{
		inline: map[string]string{
			"function": `{"Statement":[{"Effect":"Allow","Action":"dynamodb:PutItem","Resource":"` + tableARN + `"}]}`,
		},
		attached: map[string]string{
			"arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess": `{"Statement":[{"Effect":"Allow","Action":"dynamodb:*","Resource":"*"}]}`,
		},
	}
	grants, err := RoleGrants(context.Background(), api, "offload-t-audit-receiver")
	require.NoError(t, err)
	require.ElementsMatch(t, []Grant{Allow("dynamodb:PutItem", tableARN), Allow("dynamodb:*", "*")}, grants)

	require.Equal(t, []string{"unexpected: Allow dynamodb:* on *"}, DiffGrants(grants, []Grant{Allow("dynamodb:PutItem", tableARN)}))
	require.Len(t, WildcardViolations(grants, nil), 2, "wildcard action and resource \"*\"")
}

func ExampleDiffGrants() {
	want := []Grant{Allow("dynamodb:PutItem", tableARN)}
	got := []Grant{Allow("dynamodb:PutItem", tableARN), Allow("dynamodb:DeleteItem", tableARN)}
	for _, d := range DiffGrants(got, want) {
		fmt.Println(d)
	}
	// Output: unexpected: Allow dynamodb:DeleteItem on arn:aws:dynamodb:us-east-1:123456789012:table/offload-t-AuditMessages
}
