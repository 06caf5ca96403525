//go:build e2e

package infra

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gruntwork-io/terratest/modules/random"
	"github.com/gruntwork-io/terratest/modules/terraform"
	test_structure "github.com/gruntwork-io/terratest/modules/test-structure"
	"github.com/stretchr/testify/require"

	"github.com/offload/offload/internal/testenv"
)

// TestModuleGuardrails plans small roots that call the modules with values
// the modules must refuse, next to a control root that differs only in the
// value under test and must plan: the refusals come from the rules, not from
// a broken fixture.
func TestModuleGuardrails(t *testing.T) {
	testenv.Endpoint(t) // plans read the caller identity from the emulator
	repo := repoRoot(t)
	env := terraformEnv(t, repo)
	zip := filepath.Join(fixtureZips(t), "audit-receiver.zip")
	modules := filepath.Join(repo, "terraform", "modules")
	root := func(body string) *terraform.Options { return rootWith(t, body, modules, env) }

	trigger := func(visibility, batch, window int) string {
		return fmt.Sprintf(`module "t" {
  source   = %q
  function = { function_name = "f", function_timeout = 10, role_name = "r" }
  queue = {
    queue_arn                        = "arn:aws:sqs:us-east-1:123456789012:q"
    queue_visibility_timeout_seconds = %d
    dlq_arn                          = "arn:aws:sqs:us-east-1:123456789012:q-dlq"
  }
  batch_size                         = %d
  maximum_batching_window_in_seconds = %d
}`, modulesToken+"/sqs-trigger", visibility, batch, window)
	}
	queue := func(retention, dlqRetention, size int) string {
		return fmt.Sprintf(`module "q" {
  source                        = %q
  name                          = "q"
  visibility_timeout_seconds    = 60
  message_retention_seconds     = %d
  dlq_message_retention_seconds = %d
  max_message_size              = %d
}`, modulesToken+"/queue", retention, dlqRetention, size)
	}
	function := func(action string) string {
		return fmt.Sprintf(`module "f" {
  source       = %q
  name         = "f"
  package_path = %q
  policy_statements = [{
    sid       = "Items"
    actions   = [%q]
    resources = ["arn:aws:dynamodb:us-east-1:123456789012:table/t"]
  }]
}`, modulesToken+"/go-function", zip, action)
	}

	for _, tc := range []struct {
		name    string
		bad     string
		control string
		want    string
	}{
		{
			name:    "visibility timeout below 6x the function timeout",
			bad:     trigger(59, 10, 0),
			control: trigger(60, 10, 0),
			want:    "The visibility timeout of q (59 s) must be at least 6x the timeout of f (10 s = 60 s)",
		},
		{
			name:    "batch above 10 without a batching window",
			bad:     trigger(60, 20, 0),
			control: trigger(60, 20, 1),
			want:    "a batch_size above 10 needs maximum_batching_window_in_seconds of at least 1",
		},
		{
			name:    "DLQ retention not longer than the queue's",
			bad:     queue(864000, 864000, 262144),
			control: queue(345600, 864000, 262144),
			want:    "dlq_message_retention_seconds must be longer than message_retention_seconds",
		},
		{
			name:    "message size above what the provider accepts",
			bad:     queue(345600, 864000, 1048576),
			control: queue(345600, 864000, 262144),
			want:    "max_message_size must be between 1024 and 262144 bytes",
		},
		{
			name:    "wildcard action in a function statement",
			bad:     function("dynamodb:*"),
			control: function("dynamodb:PutItem"),
			want:    "actions must be exact service:Action names: no wildcards",
		},
		{
			name:    "maximum concurrency above the function's reserved concurrency",
			bad:     strings.TrimSuffix(trigger(60, 10, 0), "}") + "  maximum_concurrency = 5\n  function_reserved_concurrency = 4\n}",
			control: strings.TrimSuffix(trigger(60, 10, 0), "}") + "  maximum_concurrency = 4\n  function_reserved_concurrency = 4\n}",
			want:    "maximum_concurrency of the q trigger (5) exceeds the reserved concurrency of f (4)",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			refusal, err := planRefusal(t, root(tc.bad))
			require.Error(t, err, "the plan must be refused")
			require.Contains(t, oneLine(refusal), tc.want)

			_, err = terraform.InitAndPlanE(t, root(tc.control))
			require.NoError(t, err, "the control root must plan")
		})
	}
}

// modulesToken stands in a module source of rootWith's body for the path of
// terraform/modules.
const modulesToken = "<modules>"

// rootWith writes a root module holding body and a bare provider block. Module
// sources name terraform/modules by a path relative to the root, as the stack
// does: a relative path is a local module, read in place, so the module's own
// calls of its sibling modules (queue and notifications call tls-only-policy)
// resolve; an absolute path would make Terraform copy the module's folder
// alone, without its siblings.
func rootWith(t *testing.T, body, modules string, env map[string]string) *terraform.Options {
	t.Helper()
	dir := t.TempDir()
	rel, err := filepath.Rel(dir, modules)
	require.NoError(t, err)
	src := "provider \"aws\" {}\n\n" + strings.ReplaceAll(body, modulesToken, filepath.ToSlash(rel)) + "\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.tf"), []byte(src), 0o600))
	return &terraform.Options{TerraformDir: dir, EnvVars: env, NoColor: true}
}

// planRefusal inits and plans opts as terraform.InitAndPlanE does and
// returns what the plan wrote to stderr: Terraform's diagnostics, in their
// order. The combined output InitAndPlanE returns interleaves them with the
// plan's stdout line by line as the two pipes are read, so on a busy machine
// a resource line can land inside a diagnostic and split the message.
func planRefusal(t *testing.T, opts *terraform.Options) (string, error) {
	t.Helper()
	if _, err := terraform.InitE(t, opts); err != nil {
		return "", err
	}
	args := terraform.FormatArgs(opts, append([]string{"plan", "-input=false", "-lock=false"}, opts.ExtraArgs.Plan...)...)
	_, stderr, _, err := terraform.RunTerraformCommandAndGetStdOutErrCodeE(t, opts, args...)
	return stderr, err
}

var boxAndSpace = regexp.MustCompile(`[│\s]+`)

// oneLine undoes Terraform's wrapping of diagnostics so messages can be matched.
func oneLine(s string) string {
	return strings.TrimSpace(boxAndSpace.ReplaceAllString(s, " "))
}

// envRoot copies terraform/environments/<env> (with the files it links) to a
// temporary folder with local state instead of its S3 backend, and returns
// options that plan it with its own terraform.tfvars plus vars.
func envRoot(t *testing.T, env string, vars map[string]interface{}) *terraform.Options {
	t.Helper()
	repo := repoRoot(t)
	dir := test_structure.CopyTerraformFolderToTemp(t, filepath.Join(repo, "terraform"), filepath.Join("environments", env))
	override := "terraform {\n  backend \"local\" {}\n}\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "backend_override.tf"), []byte(override), 0o600))
	all := map[string]interface{}{
		"name_prefix": "offload-g-" + strings.ToLower(random.UniqueId()),
		"dist_dir":    fixtureZips(t),
		// The emulator's region, whatever the environment deploys to.
		"region": testenv.AWSConfig(t).Region,
	}
	for k, v := range vars {
		all[k] = v
	}
	return &terraform.Options{
		TerraformDir:         dir,
		VarFiles:             []string{filepath.Join(repo, "terraform", "environments", env, "terraform.tfvars")},
		Vars:                 all,
		SetVarsAfterVarFiles: true,
		EnvVars:              terraformEnv(t, repo),
		NoColor:              true,
	}
}

// TestEnvironmentGuardrails plans the real environment roots with one value
// wrong, next to a control plan that fixes only that value.
func TestEnvironmentGuardrails(t *testing.T) {
	testenv.Endpoint(t)
	account := newClients(t).account
	ids := []string{account}
	mail := []string{"oncall@example.com"}

	for _, tc := range []struct {
		name    string
		env     string
		bad     map[string]interface{}
		control map[string]interface{}
		want    string
	}{
		{
			name:    "staging without allowed_account_ids",
			env:     "staging",
			bad:     map[string]interface{}{},
			control: map[string]interface{}{"allowed_account_ids": ids},
			want:    "allowed_account_ids is required in staging",
		},
		{
			name:    "prod without allowed_account_ids",
			env:     "prod",
			bad:     map[string]interface{}{"alarm_email_addresses": mail},
			control: map[string]interface{}{"alarm_email_addresses": mail, "allowed_account_ids": ids},
			want:    "allowed_account_ids is required in prod",
		},
		{
			name:    "prod without an alarm e-mail address",
			env:     "prod",
			bad:     map[string]interface{}{"allowed_account_ids": ids},
			control: map[string]interface{}{"allowed_account_ids": ids, "alarm_email_addresses": mail},
			want:    "alarm_email_addresses needs at least one address in prod",
		},
		{
			// The old default (24 h) against a 4-day queue and a 10-day DLQ.
			name:    "SMS idempotency records expiring before the request can no longer arrive",
			env:     "local",
			bad:     map[string]interface{}{"sms_idempotency_retention_seconds": 86400},
			control: map[string]interface{}{"sms_idempotency_retention_seconds": localSMSRetention},
			want:    fmt.Sprintf("sms_idempotency_retention_seconds (86400 s) is shorter than an SMS request can still be delivered: the SMS queue's retention + its DLQ's retention + the visibility timeout = %d s", localSMSRetention),
		},
		{
			name:    "alarm dedupe records expiring before the event can no longer arrive",
			env:     "local",
			bad:     map[string]interface{}{"alarm_dedupe_retention_seconds": localAlarmRetention - 1},
			control: map[string]interface{}{"alarm_dedupe_retention_seconds": localAlarmRetention},
			want:    fmt.Sprintf("alarm_dedupe_retention_seconds (%d s) is shorter than an alarm event can still be delivered", localAlarmRetention-1),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			refusal, err := planRefusal(t, envRoot(t, tc.env, tc.bad))
			require.Error(t, err, "the plan must be refused")
			require.Contains(t, oneLine(refusal), tc.want)

			_, err = terraform.InitAndPlanE(t, envRoot(t, tc.env, tc.control))
			require.NoError(t, err, "the control root must plan")
		})
	}

	// dev may omit allowed_account_ids (its tfvars leave it commented out).
	t.Run("dev plans without allowed_account_ids", func(t *testing.T) {
		t.Parallel()
		_, err := terraform.InitAndPlanE(t, envRoot(t, "dev", nil))
		require.NoError(t, err)
	})
}

// TestRolesUnderPermissionsBoundary plans the dev root (which names its
// boundary) and requires every role the stack creates to carry the
// boundary's ARN, and the local root (which names none) to carry none.
func TestRolesUnderPermissionsBoundary(t *testing.T) {
	testenv.Endpoint(t)
	account := newClients(t).account

	for env, want := range map[string]interface{}{
		"dev":   "arn:aws:iam::" + account + ":policy/offload-dev-boundary",
		"local": nil,
	} {
		t.Run(env, func(t *testing.T) {
			t.Parallel()
			opts := envRoot(t, env, nil)
			opts.PlanFilePath = filepath.Join(t.TempDir(), "plan.tfplan")
			plan := terraform.InitAndPlanAndShowWithStruct(t, opts)
			roles := 0
			for addr, rc := range plan.ResourceChangesMap {
				if rc.Type != "aws_iam_role" {
					continue
				}
				roles++
				after, ok := rc.Change.After.(map[string]interface{})
				require.True(t, ok, addr)
				require.Equal(t, want, after["permissions_boundary"], addr)
			}
			require.Equal(t, len(folders), roles, "one role per function, and no other")
		})
	}
}
