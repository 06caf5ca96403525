//go:build e2e

package infra

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/gruntwork-io/terratest/modules/random"
	"github.com/gruntwork-io/terratest/modules/terraform"
	test_structure "github.com/gruntwork-io/terratest/modules/test-structure"
	"github.com/stretchr/testify/require"
)

// TestBootstrap applies terraform/bootstrap to the emulator and proves, on
// the policies IAM actually stores, that no deploy role can create or change
// a role's policies without its environment's permissions boundary, remove a
// boundary or edit the boundary policy; that a role under the boundary with
// an inline *:* reaches neither IAM nor another environment; that every
// role's trust names the deploy workflow and its refs; and that the GitHub
// setup commands set the subject template and each environment's protection,
// idempotently.
func TestBootstrap(t *testing.T) {
	ctx := context.Background()
	c := newClients(t)
	repo := repoRoot(t)
	id := strings.ToLower(random.UniqueId())
	gh := "my-org/offload-" + id
	dev, prod := "offload-b"+id+"-dev", "offload-b"+id+"-prod"

	dir := test_structure.CopyTerraformFolderToTemp(t, filepath.Join(repo, "terraform"), "bootstrap")
	opts := &terraform.Options{
		TerraformDir: dir,
		Vars: map[string]interface{}{
			"github_repository": gh,
			"region":            c.region,
			"role_name_prefix":  "offload-gh-" + id,
			"state_bucket_name": "offload-tfstate-" + id,
			"environments": map[string]interface{}{
				"dev": map[string]interface{}{"name_prefix": dev, "plan_pull_requests": true},
				"prod": map[string]interface{}{
					"name_prefix": prod, "deploy_refs": []string{"refs/heads/main", "refs/tags/v*"},
					"reviewers": []string{"alice", "my-org/release-managers"},
				},
			},
			"state_bucket_force_destroy": true,
		},
		EnvVars: terraformEnv(t, repo),
		NoColor: true,
	}
	defer terraform.Destroy(t, opts)
	terraform.InitAndApply(t, opts)

	boundaries := terraform.OutputMap(t, opts, "boundary_policy_arns")
	deployRoles := terraform.OutputMap(t, opts, "deploy_role_arns")
	planRoles := terraform.OutputMap(t, opts, "plan_role_arns")
	require.Equal(t, "arn:aws:iam::"+c.account+":policy/"+dev+"-boundary", boundaries["dev"], "the name the stack's permissions_boundary_name uses")
	require.Equal(t, "arn:aws:iam::"+c.account+":policy/"+prod+"-boundary", boundaries["prod"])

	roleARN := func(prefix, name string) string { return "arn:aws:iam::" + c.account + ":role/" + prefix + "-" + name }

	for env, prefix := range map[string]string{"dev": dev, "prod": prod} {
		t.Run("deploy role "+env, func(t *testing.T) {
			deploy, err := RoleGrants(ctx, c.iam, roleName(deployRoles[env]))
			require.NoError(t, err)
			boundary := policyGrants(ctx, t, c.iam, boundaries[env])
			bounded := map[string]string{"iam:PermissionsBoundary": boundaries[env]}

			// Structural: every Allow of a permission-changing action carries
			// the boundary condition; no Allow removes a boundary or edits a policy.
			changes := []string{"iam:CreateRole", "iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:AttachRolePolicy", "iam:DetachRolePolicy", "iam:PutRolePermissionsBoundary"}
			var conditioned int
			for _, g := range deploy {
				if g.Effect != "Allow" {
					continue
				}
				require.NotContains(t, g.Action, "*", "no wildcard IAM actions: %s", g)
				if slices.Contains(changes, g.Action) {
					require.JSONEq(t, `{"StringEquals":{"iam:PermissionsBoundary":"`+boundaries[env]+`"}}`, g.Condition, "%s", g)
					conditioned++
				}
				require.NotContains(t, []string{
					"iam:DeleteRolePermissionsBoundary", "iam:CreatePolicy", "iam:CreatePolicyVersion",
					"iam:SetDefaultPolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion",
				}, g.Action, "%s", g)
			}
			require.Equal(t, len(changes), conditioned, "each permission-changing action is granted once, under the boundary")

			// IAM refuses managed policies over 6,144 characters (whitespace
			// excluded); the emulator does not, so check it here.
			attached, err := c.iam.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(roleName(deployRoles[env]))})
			require.NoError(t, err)
			for _, p := range attached.AttachedPolicies {
				doc := policyDocument(ctx, t, c.iam, aws.ToString(p.PolicyArn))
				var compact bytes.Buffer
				require.NoError(t, json.Compact(&compact, []byte(doc)))
				require.LessOrEqual(t, compact.Len(), 6144, "%s is %d characters", aws.ToString(p.PolicyArn), compact.Len())
				t.Logf("%s: %d of 6144 characters", aws.ToString(p.PolicyName), compact.Len())
			}

			for _, tc := range []struct {
				name string
				req  Request
				want Decision
			}{
				{"CreateRole with the boundary", Request{"iam:CreateRole", roleARN(prefix, "fn"), bounded}, Allowed},
				{"CreateRole without the boundary", Request{"iam:CreateRole", roleARN(prefix, "fn"), nil}, ExplicitDeny},
				{"PutRolePolicy on an unbounded role", Request{"iam:PutRolePolicy", roleARN(prefix, "fn"), nil}, ExplicitDeny},
				{"AttachRolePolicy on an unbounded role", Request{"iam:AttachRolePolicy", roleARN(prefix, "fn"), nil}, ExplicitDeny},
				{"PutRolePermissionsBoundary with another policy", Request{"iam:PutRolePermissionsBoundary", roleARN(prefix, "fn"), map[string]string{"iam:PermissionsBoundary": "arn:aws:iam::" + c.account + ":policy/" + prefix + "-wide"}}, ExplicitDeny},
				{"DeleteRolePermissionsBoundary", Request{"iam:DeleteRolePermissionsBoundary", roleARN(prefix, "fn"), bounded}, ExplicitDeny},
				{"CreatePolicyVersion of the boundary", Request{"iam:CreatePolicyVersion", boundaries[env], nil}, ExplicitDeny},
				{"SetDefaultPolicyVersion of the boundary", Request{"iam:SetDefaultPolicyVersion", boundaries[env], nil}, ExplicitDeny},
				{"DeletePolicy of the boundary", Request{"iam:DeletePolicy", boundaries[env], nil}, ExplicitDeny},
				{"a bounded role of another environment", Request{"iam:CreateRole", roleARN(otherPrefix(prefix, dev, prod), "fn"), bounded}, ImplicitDeny},
				{"PassRole of its roles to Lambda", Request{"iam:PassRole", roleARN(prefix, "fn"), map[string]string{"iam:PassedToService": "lambda.amazonaws.com"}}, Allowed},
				{"PassRole to another service", Request{"iam:PassRole", roleARN(prefix, "fn"), map[string]string{"iam:PassedToService": "ec2.amazonaws.com"}}, ExplicitDeny},
				{"PassRole of its own GitHub role", Request{"iam:PassRole", deployRoles[env], map[string]string{"iam:PassedToService": "lambda.amazonaws.com"}}, ImplicitDeny},
			} {
				d, err := Evaluate(tc.req, deploy, nil)
				require.NoError(t, err)
				require.Equal(t, tc.want, d, tc.name)
			}

			// A role the deploy role may create: the boundary with an inline *:*.
			star := []Grant{Allow("*", "*")}
			key := "arn:aws:kms:" + c.region + ":" + c.account + ":key/k"
			for _, tc := range []struct {
				name string
				req  Request
				want Decision
			}{
				{"its own queue", Request{"sqs:SendMessage", "arn:aws:sqs:" + c.region + ":" + c.account + ":" + prefix + "-q", nil}, Allowed},
				{"its own table", Request{"dynamodb:PutItem", "arn:aws:dynamodb:" + c.region + ":" + c.account + ":table/" + prefix + "-t", nil}, Allowed},
				{"its environment's key", Request{"kms:Decrypt", key, map[string]string{"aws:ResourceTag/offload:environment": env}}, Allowed},
				{"another environment's queue", Request{"sqs:SendMessage", "arn:aws:sqs:" + c.region + ":" + c.account + ":" + otherPrefix(prefix, dev, prod) + "-q", nil}, ImplicitDeny},
				{"another environment's key", Request{"kms:Decrypt", key, map[string]string{"aws:ResourceTag/offload:environment": "other"}}, ImplicitDeny},
				{"IAM CreateRole", Request{"iam:CreateRole", roleARN(prefix, "x"), bounded}, ExplicitDeny},
				{"IAM PassRole", Request{"iam:PassRole", roleARN(prefix, "x"), nil}, ExplicitDeny},
				{"STS AssumeRole of the deploy role", Request{"sts:AssumeRole", deployRoles[env], nil}, ExplicitDeny},
				{"the state", Request{"s3:GetObject", "arn:aws:s3:::offload-tfstate-" + id + "/offload/prod.tfstate", nil}, ImplicitDeny},
			} {
				d, err := Evaluate(tc.req, star, boundary)
				require.NoError(t, err)
				require.Equal(t, tc.want, d, "bounded *:* role: %s", tc.name)
			}
		})
	}

	t.Run("trust", func(t *testing.T) {
		wf := gh + "/.github/workflows/deploy.yml@"
		for role, want := range map[string][]string{
			deployRoles["dev"]: {"repo:" + gh + ":environment:dev:job_workflow_ref:" + wf + "refs/heads/main"},
			planRoles["dev"]: {
				"repo:" + gh + ":environment:dev-plan:job_workflow_ref:" + wf + "refs/heads/main",
				"repo:" + gh + ":environment:dev-plan:job_workflow_ref:" + wf + "refs/pull/*/merge",
			},
			deployRoles["prod"]: {
				"repo:" + gh + ":environment:prod:job_workflow_ref:" + wf + "refs/heads/main",
				"repo:" + gh + ":environment:prod:job_workflow_ref:" + wf + "refs/tags/v*",
			},
			planRoles["prod"]: {
				"repo:" + gh + ":environment:prod-plan:job_workflow_ref:" + wf + "refs/heads/main",
				"repo:" + gh + ":environment:prod-plan:job_workflow_ref:" + wf + "refs/tags/v*",
			},
		} {
			out, err := c.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(roleName(role))})
			require.NoError(t, err)
			doc, err := url.QueryUnescape(aws.ToString(out.Role.AssumeRolePolicyDocument))
			require.NoError(t, err)
			var trust struct {
				Statement []struct {
					Action    any
					Condition map[string]map[string]any
				}
			}
			require.NoError(t, json.Unmarshal([]byte(doc), &trust))
			require.Len(t, trust.Statement, 1, role)
			st := trust.Statement[0]
			require.Equal(t, "sts:AssumeRoleWithWebIdentity", st.Action, role)
			require.Equal(t, "sts.amazonaws.com", st.Condition["StringEquals"]["token.actions.githubusercontent.com:aud"], role)
			require.ElementsMatch(t, want, asStrings(st.Condition["StringLike"]["token.actions.githubusercontent.com:sub"]), role)

			// A branch that declares `environment: prod` in its own workflow run.
			for _, sub := range want {
				forged := strings.Replace(sub, "@refs/heads/main", "@refs/heads/attacker", 1)
				if forged == sub {
					continue
				}
				for _, pattern := range want {
					require.False(t, globMatch(pattern, forged), "%s must not trust %s", role, forged)
				}
			}
		}
	})

	t.Run("github setup commands", func(t *testing.T) {
		cmds := terraform.Output(t, opts, "github_setup_commands")
		state := t.TempDir()
		log1 := runSetup(t, cmds, state, "first")
		// The subject template comes first: the trust above needs it.
		require.Contains(t, log1[0], "--method PUT repos/"+gh+"/actions/oidc/customization/sub")
		require.JSONEq(t, `{"use_default":false,"include_claim_keys":["repo","context","job_workflow_ref"]}`, log1[1])

		env := func(log []string, name string) map[string]any {
			for i, l := range log {
				if strings.HasSuffix(l, "repos/"+gh+"/environments/"+name+" --input -") {
					var body map[string]any
					require.NoError(t, json.Unmarshal([]byte(log[i+1]), &body), log[i+1])
					return body
				}
			}
			t.Fatalf("no PUT of environment %s in %q", name, log)
			return nil
		}
		p := env(log1, "prod")
		require.Equal(t, true, p["prevent_self_review"])
		require.Equal(t, []any{map[string]any{"type": "User", "id": 42.0}, map[string]any{"type": "Team", "id": 42.0}}, p["reviewers"])
		require.Equal(t, map[string]any{"protected_branches": false, "custom_branch_policies": true}, p["deployment_branch_policy"])
		require.Nil(t, env(log1, "dev-plan")["deployment_branch_policy"], "dev-plan plans pull requests")
		require.Equal(t, false, env(log1, "dev")["prevent_self_review"])

		posts := func(log []string) []string {
			var out []string
			for _, l := range log {
				if strings.Contains(l, "--method POST") {
					out = append(out, l)
				}
			}
			slices.Sort(out)
			return out
		}
		bp := func(env, name, kind string) string {
			return "api --method POST repos/" + gh + "/environments/" + env + "/deployment-branch-policies -f name=" + name + " -f type=" + kind
		}
		require.ElementsMatch(t, []string{
			bp("dev", "main", "branch"),
			bp("prod", "main", "branch"), bp("prod", "v*", "tag"),
			bp("prod-plan", "main", "branch"), bp("prod-plan", "v*", "tag"),
		}, posts(log1))
		require.Contains(t, log1, "variable set AWS_DEPLOY_ROLE_ARN --env prod --body "+deployRoles["prod"])

		// Run again on the state the first run left: nothing is created twice.
		log2 := runSetup(t, cmds, state, "second")
		require.Empty(t, posts(log2), "a second run adds no branch policy")
	})
}

// runSetup runs the setup commands with a stand-in gh that logs every call
// (and its --input body) to state/<run>.log and keeps the branch policies
// it was given under state/gh, so that a second run sees the first's.
func runSetup(t *testing.T, cmds, state, run string) []string {
	t.Helper()
	bin := filepath.Join(state, "bin")
	require.NoError(t, os.MkdirAll(bin, 0o755))
	fake := `#!/usr/bin/env bash
set -eu
printf '%s\n' "$*" >>"$GH_LOG"
args="$*"
case $args in
  *"--input -"*) cat >>"$GH_LOG"; echo >>"$GH_LOG" ;;
esac
case $args in
  *"--jq .id"*) echo 42 ;;
  "api --method POST "*)
    path=$4; name=${6#name=}; kind=${8#type=}
    mkdir -p "$GH_STATE/$(dirname "$path")"; echo "$kind:$name" >>"$GH_STATE/$path" ;;
  "api repos/"*deployment-branch-policies*) cat "$GH_STATE/$2" 2>/dev/null || true ;;
esac
`
	require.NoError(t, os.WriteFile(filepath.Join(bin, "gh"), []byte(fake), 0o755))
	log := filepath.Join(state, run+".log")
	cmd := exec.Command("bash", "-c", cmds)
	cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "GH_LOG="+log, "GH_STATE="+filepath.Join(state, "gh"))
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "setup commands: %s", out)
	b, err := os.ReadFile(log)
	require.NoError(t, err)
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if strings.TrimSpace(l) != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

func roleName(arn string) string { return arn[strings.LastIndex(arn, "/")+1:] }

func otherPrefix(p, a, b string) string {
	if p == a {
		return b
	}
	return a
}

func asStrings(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		out := make([]string, 0, len(x))
		for _, s := range x {
			out = append(out, fmt.Sprint(s))
		}
		return out
	}
	return nil
}

// policyDocument reads the default version of a managed policy, decoded.
func policyDocument(ctx context.Context, t *testing.T, api IAMAPI, arn string) string {
	t.Helper()
	p, err := api.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
	require.NoError(t, err)
	v, err := api.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: p.Policy.DefaultVersionId})
	require.NoError(t, err)
	doc, err := url.QueryUnescape(aws.ToString(v.PolicyVersion.Document))
	require.NoError(t, err)
	return doc
}

// policyGrants reads the default version of a managed policy as grants.
func policyGrants(ctx context.Context, t *testing.T, api IAMAPI, arn string) []Grant {
	t.Helper()
	g, err := ParsePolicy(policyDocument(ctx, t, api, arn))
	require.NoError(t, err)
	return g
}
