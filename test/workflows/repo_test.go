package workflows

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// loadRepo parses the repository's workflows, keyed by file name.
func loadRepo(t *testing.T) map[string]*Workflow {
	t.Helper()
	ws, err := LoadDir(filepath.Join("..", "..", ".github", "workflows"))
	require.NoError(t, err)
	out := map[string]*Workflow{}
	for _, w := range ws {
		out[w.File] = w
	}
	require.Contains(t, out, "ci.yml")
	require.Contains(t, out, "deploy.yml")
	return out
}

// TestRepositoryWorkflowsFollowTheRules is the guard: any rule broken in
// .github/workflows fails it, with the file, line, job and step.
func TestRepositoryWorkflowsFollowTheRules(t *testing.T) {
	t.Parallel()
	for name, w := range loadRepo(t) {
		var lines []string
		for _, f := range Check(w) {
			lines = append(lines, f.String())
		}
		require.Empty(t, lines, "%s breaks the workflow rules:\n%s", name, strings.Join(lines, "\n"))
	}
}

// jobRunning returns the jobs with a step that runs make with target and ENV=env
// (env "" matches any).
func jobsRunning(w *Workflow, target, env string) []*Job {
	var out []*Job
	for _, j := range w.Jobs {
		for _, s := range j.Steps {
			for _, mc := range makeCalls(s.Run) {
				if mc.Has(target) && (env == "" || mc.Vars["ENV"] == env) && !slices.Contains(out, j) {
					out = append(out, j)
				}
			}
		}
	}
	return out
}

func TestCIRunsLintAndTestOnEveryChange(t *testing.T) {
	t.Parallel()
	w := loadRepo(t)["ci.yml"]
	require.True(t, w.HasEvent("pull_request"), "ci runs on pull requests")
	require.True(t, w.HasEvent("push"), "ci runs on pushes to main")
	require.NotNil(t, w.Concurrency, "ci has a concurrency group")
	require.Equal(t, "true", w.Concurrency.CancelInProgress, "a newer push cancels the superseded ci run")
	require.Equal(t, "read", w.Permissions.Scopes["contents"])
	require.Len(t, w.Permissions.Scopes, 1, "ci needs only contents: read")

	for _, target := range []string{"lint", "test"} {
		jobs := jobsRunning(w, target, "")
		require.Len(t, jobs, 1, "exactly one job runs make %s", target)
		j := jobs[0]
		var setupGo, setupTF, logs bool
		for _, s := range j.Steps {
			switch s.Action() {
			case "actions/setup-go":
				setupGo = s.With["go-version-file"] == "go.mod"
			case "hashicorp/setup-terraform":
				setupTF = s.With["terraform_wrapper"] == "false"
			case "actions/upload-artifact":
				logs = s.If == "failure()" && strings.Contains(string(s.With["path"]), ".local/*.log")
			}
		}
		require.True(t, setupGo, "%s: Go from go.mod, with the module cache", j.ID)
		require.True(t, setupTF, "%s: Terraform without the output wrapper", j.ID)
		require.True(t, logs, "%s: logs uploaded on failure", j.ID)
	}
	test := jobsRunning(w, "test", "")[0]
	var moto bool
	for _, s := range test.Steps {
		moto = moto || strings.Contains(s.Run, `moto[server]==${MOTO_VERSION}`)
	}
	require.True(t, moto, "the test job installs moto[server]")
}

func TestDeployPipeline(t *testing.T) {
	t.Parallel()
	w := loadRepo(t)["deploy.yml"]
	for _, e := range []string{"push", "pull_request", "release", "workflow_dispatch"} {
		require.True(t, w.HasEvent(e), "deploy runs on %s", e)
	}
	require.NotNil(t, w.Concurrency)
	require.NotEqual(t, "true", w.Concurrency.CancelInProgress, "a deployment is never cancelled half-way")

	// Built once; every environment job downloads those zips.
	builds := jobsRunning(w, "build", "")
	require.Len(t, builds, 1, "one job runs make build")
	build := builds[0]
	require.True(t, slices.ContainsFunc(build.Steps, func(s *Step) bool {
		return s.Action() == uploadAction && s.With["name"] == "lambda-zips" && s.With["path"] == "dist/*.zip"
	}), "the build job uploads dist/*.zip")

	var applies []*Job
	for _, env := range []string{"dev", "staging", "prod"} {
		plans := jobsRunning(w, "plan", env)
		require.Len(t, plans, 1, "one job plans %s", env)
		plan := plans[0]
		require.Equal(t, env+"-plan", plan.Environment.Name, "%s plans with the read-only role of %s-plan", env, env)

		deploys := jobsRunning(w, "apply", env)
		require.Len(t, deploys, 1, "one job applies %s", env)
		apply := deploys[0]
		applies = append(applies, apply)
		require.Equal(t, env, apply.Environment.Name)
		require.Contains(t, w.Upstream(apply), plan.ID)
		require.Equal(t, "false", concurrencyOf(apply).CancelInProgress, "%s: an apply is never cancelled", env)

		for _, j := range []*Job{plan, apply} {
			require.Contains(t, w.Upstream(j), build.ID, "%s needs the build", j.ID)
			require.True(t, downloads(j, "lambda-zips", "dist"), "%s downloads the zips it deploys", j.ID)
		}
		require.Equal(t, "${{ vars.AWS_PLAN_ROLE_ARN }}", roleOf(t, plan))
		require.Equal(t, "${{ vars.AWS_DEPLOY_ROLE_ARN }}", roleOf(t, apply))

		// apply, then outputs, then the Terratest suites in real-account mode.
		order := makeTargetsIn(apply, env)
		require.Equal(t, []string{"apply", "outputs", "test-deployed"}, order, "%s job order", env)
	}
	dev, staging, prod := applies[0], applies[1], applies[2]
	require.Contains(t, w.Upstream(prod), staging.ID, "prod deploys only after staging")
	require.Equal(t, "github.event_name == 'push'", dev.If, "dev deploys on pushes to main only")

	// Pull requests get the dev plan (in the job summary), never an apply.
	planDev := jobsRunning(w, "plan", "dev")[0]
	require.Contains(t, planDev.If, "pull_request")
	for _, j := range applies {
		require.NotContains(t, j.If, "pull_request")
	}
	for _, j := range []*Job{staging, prod} {
		require.NotContains(t, w.Upstream(j), planDev.ID)
	}
	stagingPlan := jobsRunning(w, "plan", "staging")[0]
	// Before the bootstrap (no TF_STATE_BUCKET variable) the workflow only builds.
	for _, j := range []*Job{planDev, stagingPlan} {
		require.Contains(t, j.If, "vars.TF_STATE_BUCKET != ''", "%s waits for the bootstrap", j.ID)
	}
	require.Contains(t, stagingPlan.If, "release")
	require.Contains(t, stagingPlan.If, "workflow_dispatch")
}

func concurrencyOf(j *Job) Concurrency {
	var c Concurrency
	if n := mappingValue(j.node, "concurrency"); n != nil {
		_ = n.Decode(&c)
	}
	return c
}

func downloads(j *Job, artifact, dir string) bool {
	return slices.ContainsFunc(j.Steps, func(s *Step) bool {
		return s.Action() == downloadAction && string(s.With["name"]) == artifact && string(s.With["path"]) == dir
	})
}

func roleOf(t *testing.T, j *Job) string {
	t.Helper()
	var roles []string
	for _, s := range j.Steps {
		if s.Action() == configureAWSAction {
			roles = append(roles, string(s.With["role-to-assume"]))
		}
	}
	require.Len(t, roles, 1, "%s assumes one role", j.ID)
	return roles[0]
}

func makeTargetsIn(j *Job, env string) []string {
	var out []string
	for _, s := range j.Steps {
		for _, mc := range makeCalls(s.Run) {
			if mc.Vars["ENV"] == env {
				out = append(out, mc.Targets...)
			}
		}
	}
	return out
}
