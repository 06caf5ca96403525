package workflows

import (
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Rule names one check; every Finding carries the rule it breaks.
type Rule string

// The rules Check applies.
const (
	// RuleStaticCredentials: no static AWS keys anywhere (action inputs,
	// environment variables, secrets named like AWS keys).
	RuleStaticCredentials Rule = "static-aws-credentials"
	// RuleIDToken: a job that assumes an AWS role or deploys has
	// `permissions: id-token: write` (job level, or workflow level when the
	// job sets none), given as an explicit scope.
	RuleIDToken Rule = "oidc-id-token"
	// RuleOIDCRole: credentials come from configure-aws-credentials with a
	// role-to-assume taken from a GitHub variable, before any make target that
	// talks to AWS.
	RuleOIDCRole Rule = "oidc-role"
	// RuleEnvironment: a job that deploys ENV=x runs in GitHub environment x
	// (plan-only jobs: x or x-plan); prod applies only in `prod`.
	RuleEnvironment Rule = "deploy-environment"
	// RuleApplyPlan: `make apply ENV=x PLAN_SHA256=h` applies only the plan
	// that was reviewed: h is the plan_sha256 output of a `make plan ENV=x`
	// step of an upstream job, and apply re-plans and refuses another plan.
	RuleApplyPlan Rule = "apply-consumes-plan"
	// RulePlanArtifact: no plan file, state or .terraform directory is
	// uploaded as an artifact (anyone who can read the repository's Actions
	// can download artifacts; a plan file holds state and variable values).
	RulePlanArtifact Rule = "no-plan-artifact"
	// RulePinnedAction: every remote action and reusable workflow is pinned to
	// a full 40-hex commit SHA with its version in a trailing comment.
	RulePinnedAction Rule = "pinned-action"
	// RuleMake: steps that build, test or deploy call a Makefile target and no
	// build tool directly.
	RuleMake Rule = "build-through-make"
	// RuleTimeout: every job sets timeout-minutes.
	RuleTimeout Rule = "job-timeout"
	// RuleTrigger: no pull_request_target or workflow_run triggers.
	RuleTrigger Rule = "unsafe-trigger"
)

// Finding is one rule broken at one place.
type Finding struct {
	// File is the workflow's name as parsed.
	File string
	// Line is the 1-based line the finding points at (0 when unknown).
	Line int
	// Job is the job id ("" for the workflow level).
	Job string
	// Step labels the step ("" for a job- or workflow-level finding).
	Step string
	// Rule is the rule broken.
	Rule Rule
	// Message says what is wrong.
	Message string
}

// String renders the finding as "file:line: job x: step y: [rule] message".
func (f Finding) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:%d: ", f.File, f.Line)
	if f.Job != "" {
		fmt.Fprintf(&b, "job %s: ", f.Job)
	}
	if f.Step != "" {
		fmt.Fprintf(&b, "step %q: ", f.Step)
	}
	fmt.Fprintf(&b, "[%s] %s", f.Rule, f.Message)
	return b.String()
}

// awsTargets are the Makefile targets that reach a real AWS account.
var awsTargets = map[string]bool{
	"tf-init": true, "plan": true, "apply": true, "outputs": true, "test-deployed": true, "destroy": true,
}

// mutatingTargets change or exercise a deployed environment; they need the
// environment's own protection, not only its plan environment.
var mutatingTargets = map[string]bool{"apply": true, "test-deployed": true, "destroy": true}

const (
	configureAWSAction = "aws-actions/configure-aws-credentials"
	uploadAction       = "actions/upload-artifact"
	downloadAction     = "actions/download-artifact"
)

var (
	pinnedRef      = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(/[^@]+)?@[0-9a-f]{40}$`)
	versionComment = regexp.MustCompile(`^v?[0-9]+(\.[0-9]+)*\S*$`)
	dockerDigest   = regexp.MustCompile(`^docker://[^@]+@sha256:[0-9a-f]{64}$`)
	// Secrets named like AWS keys: AWS_ACCESS_KEY_ID, AWS_SECRET, MY_AWS_SECRET_KEY, ...
	awsKeySecret = regexp.MustCompile(`(?i)secrets(\.|\[\s*['"])[A-Z0-9_]*(AWS_?(ACCESS|SECRET|SESSION)|(ACCESS|SECRET)_?(ACCESS_?)?KEY)`)
	// Static key variables, as YAML keys or assigned in scripts.
	awsKeyVariable = regexp.MustCompile(`^AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN)$`)
	awsKeyExport   = regexp.MustCompile(`\bAWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN)\s*=`)
	literalRoleARN = regexp.MustCompile(`arn:aws[a-z-]*:iam::[0-9]{12}:`)
	buildStepName  = regexp.MustCompile(`(?i)\b(build|test|tests|lint|plan|apply|deploy|destroy)\b`)
)

// staticKeyInputs are configure-aws-credentials inputs (or any action's) that
// carry long-lived keys.
var staticKeyInputs = map[string]bool{
	"aws-access-key-id": true, "aws-secret-access-key": true, "aws-session-token": true,
}

// Check applies every rule to the workflow and returns the findings, ordered
// by line.
func Check(w *Workflow) []Finding {
	c := &checker{w: w}
	c.triggers()
	c.staticCredentials(w.root, "")
	for _, j := range w.Jobs {
		c.job(j)
	}
	sort.SliceStable(c.out, func(a, b int) bool { return c.out[a].Line < c.out[b].Line })
	return c.out
}

type checker struct {
	w   *Workflow
	out []Finding
}

func (c *checker) add(line int, j *Job, s *Step, rule Rule, format string, args ...any) {
	f := Finding{File: c.w.File, Line: line, Rule: rule, Message: fmt.Sprintf(format, args...)}
	if j != nil {
		f.Job = j.ID
	}
	if s != nil {
		f.Step = s.Label()
	}
	c.out = append(c.out, f)
}

func (c *checker) triggers() {
	for _, e := range c.w.Events {
		if e == "pull_request_target" || e == "workflow_run" {
			c.add(c.w.EventLines[e], nil, nil, RuleTrigger, "trigger %s runs with the repository's secrets and write token on code from forks", e)
		}
	}
}

// staticCredentials walks a YAML tree for static AWS keys. At the workflow
// level (job == "") it skips `jobs:`, which each job walks itself.
func (c *checker) staticCredentials(n *yaml.Node, jobID string) {
	var j *Job
	if jobID != "" {
		j = c.w.Job(jobID)
	}
	var walk func(n *yaml.Node, top bool)
	walk = func(n *yaml.Node, top bool) {
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				if top && jobID == "" && k.Value == "jobs" {
					continue
				}
				switch {
				case staticKeyInputs[k.Value]:
					c.add(k.Line, j, nil, RuleStaticCredentials, "input %s passes a long-lived AWS key; assume a role with OIDC (role-to-assume) instead", k.Value)
				case awsKeyVariable.MatchString(k.Value):
					c.add(k.Line, j, nil, RuleStaticCredentials, "variable %s sets a static AWS key; assume a role with OIDC instead", k.Value)
				}
				walk(v, false)
			}
		case yaml.SequenceNode, yaml.DocumentNode:
			for _, child := range n.Content {
				walk(child, false)
			}
		case yaml.ScalarNode:
			if m := awsKeySecret.FindString(n.Value); m != "" {
				c.add(n.Line, j, nil, RuleStaticCredentials, "uses %s, a secret named like an AWS key; assume a role with OIDC instead", m)
			}
			if m := awsKeyExport.FindString(n.Value); m != "" {
				c.add(n.Line, j, nil, RuleStaticCredentials, "script sets %s: static AWS keys are not allowed", strings.TrimSpace(strings.TrimSuffix(m, "=")))
			}
		}
	}
	walk(n, true)
}

func (c *checker) job(j *Job) {
	c.staticCredentials(j.node, j.ID)
	c.pinned(j.Line, j, nil, j.Uses, jobUsesComment(j))
	if j.Uses == "" && j.TimeoutMinutes == "" {
		c.add(j.Line, j, nil, RuleTimeout, "job has no timeout-minutes (the default is 6 hours)")
	}

	var (
		assumesRole bool
		awsCalls    []MakeCall
		roleLine    = -1
	)
	for _, s := range j.Steps {
		c.pinned(s.Line, j, s, s.Uses, s.UsesComment)
		c.makeOnly(j, s)
		if s.Action() == uploadAction {
			c.planArtifact(j, s)
		}
		if s.Action() == configureAWSAction {
			assumesRole = true
			c.role(j, s)
			if roleLine < 0 {
				roleLine = s.Line
			}
		}
		for _, mc := range makeCalls(s.Run) {
			if !touchesAWS(mc) {
				continue
			}
			awsCalls = append(awsCalls, mc)
			if roleLine < 0 || s.Line < roleLine {
				c.add(s.Line, j, s, RuleOIDCRole, "make %s reaches AWS before any configure-aws-credentials step assumed a role", strings.Join(mc.Targets, " "))
			}
		}
		for _, mc := range makeCalls(s.Run) {
			if mc.Has("apply") {
				c.applyPlan(j, s, mc)
			}
		}
	}

	if assumesRole || len(awsCalls) > 0 || j.Environment.Name != "" {
		c.idToken(j)
	}
	c.environment(j, awsCalls)
}

func touchesAWS(mc MakeCall) bool {
	for _, t := range mc.Targets {
		if awsTargets[t] {
			return true
		}
	}
	return false
}

func (c *checker) pinned(line int, j *Job, s *Step, uses, comment string) {
	switch {
	case uses == "", strings.HasPrefix(uses, "./"):
		return
	case strings.HasPrefix(uses, "docker://"):
		if !dockerDigest.MatchString(uses) {
			c.add(line, j, s, RulePinnedAction, "%s is not pinned to an image digest (@sha256:...)", uses)
		}
	case !pinnedRef.MatchString(uses):
		c.add(line, j, s, RulePinnedAction, "%s is not pinned to a full 40-hex commit SHA", uses)
	case !versionComment.MatchString(comment):
		c.add(line, j, s, RulePinnedAction, "%s has no version comment (write `uses: owner/repo@<sha> # vX.Y.Z`)", uses)
	}
}

func jobUsesComment(j *Job) string {
	if v := mappingValue(j.node, "uses"); v != nil {
		return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v.LineComment), "#"))
	}
	return ""
}

// knownBuildActions build or test outside the Makefile.
var knownBuildActions = map[string]bool{
	"golangci/golangci-lint-action": true, "dominikh/staticcheck-action": true,
	"hashicorp/tfc-workflows-github": true, "aquasecurity/tfsec-action": true,
	"aquasecurity/trivy-action": true, "goreleaser/goreleaser-action": true,
	"dflook/terraform-apply": true, "dflook/terraform-plan": true,
}

func (c *checker) makeOnly(j *Job, s *Step) {
	if s.Uses != "" {
		if knownBuildActions[s.Action()] {
			c.add(s.Line, j, s, RuleMake, "%s builds or tests outside the Makefile; call a make target", s.Action())
		}
		return
	}
	for _, cmd := range directToolCalls(s.Run) {
		c.add(s.Line, j, s, RuleMake, "runs `%s` directly; builds and tests go through a Makefile target", cmd)
	}
	if buildStepName.MatchString(s.Name) && len(makeCalls(s.Run)) == 0 {
		c.add(s.Line, j, s, RuleMake, "step named %q does not call make", s.Name)
	}
}

func (c *checker) role(j *Job, s *Step) {
	role := string(s.With["role-to-assume"])
	switch {
	case role == "":
		c.add(s.Line, j, s, RuleOIDCRole, "configure-aws-credentials without role-to-assume")
	case literalRoleARN.MatchString(role):
		c.add(s.Line, j, s, RuleOIDCRole, "role-to-assume is a literal ARN; take it from a GitHub environment variable (${{ vars.AWS_DEPLOY_ROLE_ARN }})")
	case !strings.Contains(role, "vars."):
		c.add(s.Line, j, s, RuleOIDCRole, "role-to-assume %q does not come from a GitHub variable", role)
	}
}

func (c *checker) idToken(j *Job) {
	p, where := j.Permissions, "job"
	if !p.Set {
		p, where = c.w.Permissions, "workflow"
	}
	switch {
	case !p.Set:
		c.add(j.Line, j, nil, RuleIDToken, "job assumes an AWS role but neither it nor the workflow sets permissions (id-token: write)")
	case p.All != "":
		c.add(j.Line, j, nil, RuleIDToken, "%s permissions are %q; grant id-token: write (and contents: read) explicitly", where, p.All)
	case p.Scopes["id-token"] != "write":
		c.add(j.Line, j, nil, RuleIDToken, "job assumes an AWS role but its %s permissions lack id-token: write", where)
	}
}

// environment checks that a deploying job runs in the GitHub environment of
// the ENV it deploys (plan-only jobs may use ENV-plan).
func (c *checker) environment(j *Job, calls []MakeCall) {
	envs := map[string]bool{}
	mutates := false
	for _, mc := range calls {
		env := mc.Vars["ENV"]
		if env == "" {
			env = "dev" // the Makefile's default
		}
		envs[env] = true
		for _, t := range mc.Targets {
			mutates = mutates || mutatingTargets[t]
		}
	}
	if strings.HasPrefix(j.Environment.Name, "prod") {
		envs["prod"] = true
	}
	if len(envs) > 1 {
		c.add(j.Line, j, nil, RuleEnvironment, "job deploys to several environments (%s); use one job per environment", strings.Join(sortedKeys(envs), ", "))
		return
	}
	for env := range envs {
		got := j.Environment.Name
		switch {
		case got == "":
			c.add(j.Line, j, nil, RuleEnvironment, "job deploys to %s without a GitHub environment: add `environment: %s` so its protection rules and variables apply", env, env)
		case mutates && got != env:
			c.add(j.Line, j, nil, RuleEnvironment, "job applies to %s but runs in environment %q; it must run in %q", env, got, env)
		case !mutates && got != env && got != env+"-plan":
			c.add(j.Line, j, nil, RuleEnvironment, "job plans %s but runs in environment %q; use %q or %q", env, got, env+"-plan", env)
		}
	}
}

var (
	needsOutput = regexp.MustCompile(`^\$\{\{\s*needs\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)\s*\}\}$`)
	planOutput  = regexp.MustCompile(`^\$\{\{\s*steps\.([A-Za-z0-9_-]+)\.outputs\.plan_sha256\s*\}\}$`)
	shellVar    = regexp.MustCompile(`^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$`)
)

// applyPlan checks that `make apply` applies only the reviewed plan: its
// PLAN_SHA256 is the plan_sha256 output of an upstream job's `make plan`
// step for the same environment (directly or through the step's or job's
// env), and no plan file is handed over.
func (c *checker) applyPlan(j *Job, s *Step, mc MakeCall) {
	env, sum := mc.Vars["ENV"], mc.Vars["PLAN_SHA256"]
	if env == "" || sum == "" {
		c.add(s.Line, j, s, RuleApplyPlan, "make apply must name the environment and the reviewed plan's hash (ENV=... PLAN_SHA256=...)")
		return
	}
	for k := range mc.Vars {
		if k != "ENV" && k != "PLAN_SHA256" {
			c.add(s.Line, j, s, RuleApplyPlan, "make apply takes only ENV and PLAN_SHA256; %s would change what is applied", k)
		}
	}
	expr := sum
	if m := shellVar.FindStringSubmatch(sum); m != nil {
		expr = string(s.Env[m[1]])
		if expr == "" {
			expr = string(j.Env[m[1]])
		}
	}
	m := needsOutput.FindStringSubmatch(strings.TrimSpace(expr))
	if m == nil {
		c.add(s.Line, j, s, RuleApplyPlan, "PLAN_SHA256=%s does not come from a plan job's output (${{ needs.<plan job>.outputs.<name> }})", sum)
		return
	}
	planJob, output := m[1], m[2]
	upstream := false
	for _, id := range c.w.Upstream(j) {
		upstream = upstream || id == planJob
	}
	p := c.w.Job(planJob)
	if !upstream || p == nil {
		c.add(s.Line, j, s, RuleApplyPlan, "PLAN_SHA256 comes from job %s, which this job does not need", planJob)
		return
	}
	om := planOutput.FindStringSubmatch(strings.TrimSpace(string(p.Outputs[output])))
	if om == nil {
		c.add(s.Line, j, s, RuleApplyPlan, "output %s of job %s is not the plan_sha256 of one of its steps", output, planJob)
		return
	}
	for _, ps := range p.Steps {
		if ps.ID != om[1] {
			continue
		}
		for _, pc := range makeCalls(ps.Run) {
			if pc.Has("plan") && pc.Vars["ENV"] == env {
				return
			}
		}
	}
	c.add(s.Line, j, s, RuleApplyPlan, "applies %s with the hash of step %s of job %s, which does not run `make plan ENV=%s`", env, om[1], planJob, env)
}

// planArtifact refuses uploads of plan files, state or whole work directories.
func (c *checker) planArtifact(j *Job, s *Step) {
	for _, p := range strings.Fields(string(s.With["path"])) {
		clean := cleanPath(p)
		switch {
		case strings.HasSuffix(clean, ".tfplan"), strings.Contains(clean, "tfstate"), strings.Contains(clean, ".terraform"),
			strings.Contains(clean, "plan") && !strings.HasSuffix(clean, ".log"),
			clean == ".", clean == ".local", clean == "terraform", strings.HasSuffix(clean, "/*"), strings.HasSuffix(clean, "/**"):
			c.add(s.Line, j, s, RulePlanArtifact, "uploads %s: plan files and state hold state and variable values and artifacts are readable by anyone who can read the repository's Actions; pass the plan's hash as a job output instead", p)
		}
	}
}

func cleanPath(p string) string { return path.Clean(strings.TrimSpace(p)) }

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
