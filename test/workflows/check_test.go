package workflows

import (
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// good is a small deployment workflow that follows every rule; each case in
// TestCheckReportsViolations breaks it in one place.
const good = `name: deploy
on:
  push:
    branches: [main]
permissions:
  contents: read
jobs:
  build:
    runs-on: ubuntu-24.04
    timeout-minutes: 10
    steps:
      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1
      - name: make build
        run: make build
  plan-prod:
    needs: build
    runs-on: ubuntu-24.04
    timeout-minutes: 10
    environment: prod-plan
    permissions: {contents: read, id-token: write}
    outputs:
      plan_sha256: ${{ steps.plan.outputs.plan_sha256 }}
    steps:
      - uses: aws-actions/configure-aws-credentials@e6de054238d6b7531b4efff3b6587d9aade6a06c # v6.2.3
        with:
          role-to-assume: ${{ vars.AWS_PLAN_ROLE_ARN }}
          aws-region: eu-west-1
      - name: make plan
        id: plan
        run: make plan ENV=prod PLAN=.local/plan-prod.tfplan TF_LOCK=false
  apply-prod:
    needs: plan-prod
    runs-on: ubuntu-24.04
    timeout-minutes: 30
    environment: prod
    permissions:
      contents: read
      id-token: write
    steps:
      - uses: aws-actions/configure-aws-credentials@e6de054238d6b7531b4efff3b6587d9aade6a06c # v6.2.3
        with:
          role-to-assume: ${{ vars.AWS_DEPLOY_ROLE_ARN }}
          aws-region: eu-west-1
      - name: make apply
        env:
          PLAN_SHA256: ${{ needs.plan-prod.outputs.plan_sha256 }}
        run: make apply ENV=prod PLAN_SHA256="$PLAN_SHA256"
      - name: make test-deployed
        run: make test-deployed ENV=prod 2>&1 | tee .local/test-deployed.log
`

func check(t *testing.T, src string) []Finding {
	t.Helper()
	w, err := Parse("test.yml", []byte(src))
	require.NoError(t, err)
	return Check(w)
}

func rules(fs []Finding) []Rule {
	seen := map[Rule]bool{}
	var out []Rule
	for _, f := range fs {
		if !seen[f.Rule] {
			seen[f.Rule] = true
			out = append(out, f.Rule)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func TestCheckAcceptsGoodWorkflow(t *testing.T) {
	t.Parallel()
	require.Empty(t, check(t, good))
}

// TestCheckReportsViolations feeds the checker small bad workflows (the good
// one with one edit) and requires exactly the rules each edit breaks.
func TestCheckReportsViolations(t *testing.T) {
	t.Parallel()
	const applyRun = "        run: make apply ENV=prod PLAN_SHA256=\"$PLAN_SHA256\"\n"
	const applyEnv = "        env:\n          PLAN_SHA256: ${{ needs.plan-prod.outputs.plan_sha256 }}\n"
	const applyRole = "          role-to-assume: ${{ vars.AWS_DEPLOY_ROLE_ARN }}\n"
	const applyPerms = "    permissions:\n      contents: read\n      id-token: write\n"
	const applyCreds = "      - uses: aws-actions/configure-aws-credentials@e6de054238d6b7531b4efff3b6587d9aade6a06c # v6.2.3\n" +
		"        with:\n" + applyRole + "          aws-region: eu-west-1\n"
	cases := []struct {
		name     string
		old, new string
		want     []Rule
		message  string // a fragment of one finding's message
		job      string // the job of that finding
	}{
		// Static credentials, however they are passed.
		{"access key input", applyRole, applyRole + "          aws-access-key-id: ${{ secrets.DEPLOY_KEY_ID }}\n",
			[]Rule{RuleStaticCredentials}, "input aws-access-key-id", "apply-prod"},
		{"secret key input from an AWS-named secret", applyRole, applyRole + "          aws-secret-access-key: ${{ secrets.AWS_SECRET_ACCESS_KEY }}\n",
			[]Rule{RuleStaticCredentials}, "secrets.AWS_SECRET", "apply-prod"},
		{"key in job env", applyPerms, applyPerms + "    env:\n      AWS_ACCESS_KEY_ID: ${{ vars.KEY }}\n",
			[]Rule{RuleStaticCredentials}, "variable AWS_ACCESS_KEY_ID", "apply-prod"},
		{"key in workflow env", "permissions:\n  contents: read\njobs:", "permissions:\n  contents: read\nenv:\n  AWS_SECRET_ACCESS_KEY: x\njobs:",
			[]Rule{RuleStaticCredentials}, "variable AWS_SECRET_ACCESS_KEY", ""},
		{"secret named like a key in a step env", "      - name: make build\n        run: make build\n",
			"      - name: make build\n        run: make build\n        env:\n          TOKEN: ${{ secrets.prod_aws_secret }}\n",
			[]Rule{RuleStaticCredentials}, "secrets.prod_aws_secret", "build"},
		{"secret in index syntax", applyRole, applyRole + "          aws-session-token: x\n        env:\n          K: ${{ secrets['AWS_ACCESS_KEY'] }}\n",
			[]Rule{RuleStaticCredentials}, "secrets['AWS_ACCESS", "apply-prod"},
		{"key exported in a script", applyRun, "        run: export AWS_SECRET_ACCESS_KEY=abc && make apply ENV=prod PLAN_SHA256=\"$PLAN_SHA256\"\n",
			[]Rule{RuleStaticCredentials}, "script sets AWS_SECRET_ACCESS_KEY", "apply-prod"},

		// OIDC: the token permission and where the role comes from.
		{"deploy job without id-token", applyPerms, "    permissions:\n      contents: read\n",
			[]Rule{RuleIDToken}, "lack id-token: write", "apply-prod"},
		{"deploy job falls back to workflow permissions without id-token", applyPerms, "",
			[]Rule{RuleIDToken}, "workflow permissions lack id-token", "apply-prod"},
		{"write-all is not an explicit grant", "permissions: {contents: read, id-token: write}", "permissions: write-all",
			[]Rule{RuleIDToken}, `"write-all"`, "plan-prod"},
		{"literal role ARN", applyRole, "          role-to-assume: arn:aws:iam::123456789012:role/deploy\n",
			[]Rule{RuleOIDCRole}, "literal ARN", "apply-prod"},
		{"role from a secret", applyRole, "          role-to-assume: ${{ secrets.ROLE }}\n",
			[]Rule{RuleOIDCRole}, "does not come from a GitHub variable", "apply-prod"},
		{"no role to assume", applyRole, "",
			[]Rule{RuleOIDCRole}, "without role-to-assume", "apply-prod"},
		{"make reaches AWS before credentials", applyCreds + "      - name: make apply\n" + applyEnv + applyRun,
			"      - name: make apply\n" + applyEnv + applyRun + applyCreds,
			[]Rule{RuleOIDCRole}, "before any configure-aws-credentials", "apply-prod"},
		// Prod behind its environment.
		{"prod apply without environment", "    environment: prod\n", "",
			[]Rule{RuleEnvironment}, "deploys to prod without a GitHub environment", "apply-prod"},
		{"prod apply in the plan environment", "    environment: prod\n", "    environment: prod-plan\n",
			[]Rule{RuleEnvironment}, `must run in "prod"`, "apply-prod"},
		{"prod apply in another environment", "    environment: prod\n", "    environment: {name: staging}\n",
			[]Rule{RuleEnvironment}, `runs in environment "staging"`, "apply-prod"},
		{"prod plan without environment", "    environment: prod-plan\n", "",
			[]Rule{RuleEnvironment}, "deploys to prod without a GitHub environment", "plan-prod"},

		// Apply applies only the reviewed plan, and no plan travels as an artifact.
		{"apply without the reviewed hash", applyRun, "        run: make apply ENV=prod\n",
			[]Rule{RuleApplyPlan}, "ENV=... PLAN_SHA256=...", "apply-prod"},
		{"apply of a plan file", applyRun, "        run: make apply ENV=prod PLAN=.local/plan/plan-prod.tfplan\n",
			[]Rule{RuleApplyPlan}, "ENV=... PLAN_SHA256=...", "apply-prod"},
		{"apply with a plan file and the hash", applyRun, "        run: make apply ENV=prod PLAN_SHA256=\"$PLAN_SHA256\" PLAN=.local/plan-prod.tfplan\n",
			[]Rule{RuleApplyPlan}, "takes only ENV and PLAN_SHA256; PLAN", "apply-prod"},
		{"apply with extra variables", applyRun, "        run: make apply ENV=prod PLAN_SHA256=\"$PLAN_SHA256\" TF_CLI_ARGS=-destroy\n",
			[]Rule{RuleApplyPlan}, "takes only ENV and PLAN_SHA256", "apply-prod"},
		{"hash typed in", applyRun, "        run: make apply ENV=prod PLAN_SHA256=0123abcd\n",
			[]Rule{RuleApplyPlan}, "does not come from a plan job's output", "apply-prod"},
		{"hash from a job apply does not need", "    needs: plan-prod\n", "    needs: build\n",
			[]Rule{RuleApplyPlan}, "which this job does not need", "apply-prod"},
		{"plan job output not from a step", "      plan_sha256: ${{ steps.plan.outputs.plan_sha256 }}\n", "      plan_sha256: ${{ vars.SHA }}\n",
			[]Rule{RuleApplyPlan}, "is not the plan_sha256 of one of its steps", "apply-prod"},
		{"plan job output from another step", "        id: plan\n", "        id: other\n",
			[]Rule{RuleApplyPlan}, "which does not run `make plan ENV=prod`", "apply-prod"},
		{"plan made for another environment", "run: make plan ENV=prod PLAN", "run: make plan ENV=staging PLAN",
			[]Rule{RuleApplyPlan, RuleEnvironment}, "which does not run `make plan ENV=prod`", "apply-prod"},
		{"plan file uploaded as an artifact", "        run: make plan ENV=prod PLAN=.local/plan-prod.tfplan TF_LOCK=false\n",
			"        run: make plan ENV=prod PLAN=.local/plan-prod.tfplan TF_LOCK=false\n" +
				"      - uses: actions/upload-artifact@bbbca2ddaa5d8feaa63e36b76fdaad77386f024f # v7.0.0\n" +
				"        with:\n          name: plan-prod\n          path: .local/plan-prod.tfplan\n",
			[]Rule{RulePlanArtifact}, "uploads .local/plan-prod.tfplan", "plan-prod"},
		{"work directory uploaded as an artifact", "        run: make plan ENV=prod PLAN=.local/plan-prod.tfplan TF_LOCK=false\n",
			"        run: make plan ENV=prod PLAN=.local/plan-prod.tfplan TF_LOCK=false\n" +
				"      - uses: actions/upload-artifact@bbbca2ddaa5d8feaa63e36b76fdaad77386f024f # v7.0.0\n" +
				"        with:\n          name: everything\n          path: |\n            dist/*.zip\n            .local\n",
			[]Rule{RulePlanArtifact}, "uploads .local", "plan-prod"},

		// Pinned actions.
		{"action pinned to a tag", "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1", "actions/checkout@v7",
			[]Rule{RulePinnedAction}, "not pinned to a full 40-hex commit SHA", "build"},
		{"action pinned to a short SHA", "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1", "actions/checkout@3d3c42e # v7.0.1",
			[]Rule{RulePinnedAction}, "not pinned", "build"},
		{"pinned action without a version comment", "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1", "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1",
			[]Rule{RulePinnedAction}, "no version comment", "build"},
		{"docker image by tag", "      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1\n", "      - uses: docker://alpine:3.20\n",
			[]Rule{RulePinnedAction}, "image digest", "build"},
		{"reusable workflow by branch", "  build:\n    runs-on: ubuntu-24.04\n    timeout-minutes: 10\n    steps:\n      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1\n      - name: make build\n        run: make build\n",
			"  build:\n    uses: someone/workflows/.github/workflows/build.yml@main\n",
			[]Rule{RulePinnedAction}, "not pinned", "build"},

		// Build and test through make.
		{"go test directly", "        run: make build\n", "        run: go test ./...\n",
			[]Rule{RuleMake}, "runs `go test ./...` directly", "build"},
		{"terraform directly", applyRun, "        run: terraform apply -auto-approve .local/plan/plan-prod.tfplan\n",
			[]Rule{RuleMake}, "runs `terraform apply", "apply-prod"},
		{"repository script directly", "        run: make build\n", "        run: scripts/test.sh\n",
			[]Rule{RuleMake}, "runs `scripts/test.sh` directly", "build"},
		{"make and a direct tool in one step", "        run: make build\n", "        run: make build && go vet ./...\n",
			[]Rule{RuleMake}, "runs `go vet ./...` directly", "build"},
		{"build step without make", "        run: make build\n", "        run: echo building\n",
			[]Rule{RuleMake}, `step named "make build" does not call make`, "build"},
		{"third-party lint action", "      - name: make build\n        run: make build\n",
			"      - uses: golangci/golangci-lint-action@1e7e51e771db61008b38414a730f564565cf7c20 # v9.2.0\n",
			[]Rule{RuleMake}, "golangci/golangci-lint-action builds or tests outside the Makefile", "build"},

		// Job hygiene and triggers.
		{"job without timeout", "    timeout-minutes: 30\n", "",
			[]Rule{RuleTimeout}, "no timeout-minutes", "apply-prod"},
		{"pull_request_target", "on:\n  push:\n", "on:\n  pull_request_target:\n  push:\n",
			[]Rule{RuleTrigger}, "pull_request_target", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, 1, strings.Count(good, tc.old), "the edit must apply to exactly one place: %q", tc.old)
			bad := strings.Replace(good, tc.old, tc.new, 1)
			fs := check(t, bad)
			require.Equal(t, tc.want, rules(fs), "findings: %v", fs)
			var hit bool
			for _, f := range fs {
				if strings.Contains(f.Message, tc.message) && f.Job == tc.job {
					hit = true
					require.Positive(t, f.Line, "finding without a line: %v", f)
				}
			}
			require.True(t, hit, "no finding in job %q says %q: %v", tc.job, tc.message, fs)
		})
	}
}

func TestCheckEnvironmentForms(t *testing.T) {
	t.Parallel()
	// The map form of environment counts like the string form.
	src := strings.Replace(good, "    environment: prod\n", "    environment:\n      name: prod\n      url: https://example.com\n", 1)
	require.Empty(t, check(t, src))
	// A plan job may run in the environment itself instead of <env>-plan.
	src = strings.Replace(good, "    environment: prod-plan\n", "    environment: prod\n", 1)
	require.Empty(t, check(t, src))
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	for name, src := range map[string]string{
		"not yaml":    "jobs: [",
		"a list":      "- a\n- b\n",
		"no jobs":     "name: x\non: push\n",
		"bad perms":   "on: push\njobs:\n  a:\n    permissions: [x]\n    steps: []\n",
		"bad env map": "on: push\njobs:\n  a:\n    environment: [prod]\n",
	} {
		_, err := Parse(name, []byte(src))
		require.Error(t, err, name)
		require.Contains(t, err.Error(), "parse workflow "+name)
	}
}

func TestMakeCalls(t *testing.T) {
	t.Parallel()
	calls := makeCalls("set -e\nmkdir -p .local && make -C . lint 2>&1 | tee .local/x.log\n" +
		"FOO=1 make plan ENV=prod \\\n  PLAN='.local/p.tfplan' # a comment make apply\necho make")
	require.Len(t, calls, 2)
	require.Equal(t, []string{"lint"}, calls[0].Targets)
	require.Empty(t, calls[0].Vars)
	require.Equal(t, []string{"plan"}, calls[1].Targets)
	require.Equal(t, map[string]string{"ENV": "prod", "PLAN": ".local/p.tfplan"}, calls[1].Vars)
}

func TestDirectToolCalls(t *testing.T) {
	t.Parallel()
	got := directToolCalls("python -m pip install x\npython3 -m moto.server\nmake test > out.log\n" +
		"env -u X go build ./...\nbash scripts/lint.sh\n./run.sh\necho terraform\ncat x | grep go")
	require.Equal(t, []string{"python3 -m moto.server", "env -u X go build ./...", "bash scripts/lint.sh", "./run.sh"}, got)
}
