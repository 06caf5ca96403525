//go:build e2e

package infra

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gruntwork-io/terratest/modules/terraform"
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

	trigger := func(visibility, batch, window int) string {
		return fmt.Sprintf(`module "t" {
  source                             = %q
  function_name                      = "f"
  function_timeout_seconds           = 10
  role_name                          = "r"
  queue_arn                          = "arn:aws:sqs:us-east-1:123456789012:q"
  queue_visibility_timeout_seconds   = %d
  dlq_arn                            = "arn:aws:sqs:us-east-1:123456789012:q-dlq"
  batch_size                         = %d
  maximum_batching_window_in_seconds = %d
}`, filepath.Join(modules, "sqs-trigger"), visibility, batch, window)
	}
	queue := func(retention, dlqRetention, size int) string {
		return fmt.Sprintf(`module "q" {
  source                        = %q
  name                          = "q"
  visibility_timeout_seconds    = 60
  message_retention_seconds     = %d
  dlq_message_retention_seconds = %d
  max_message_size              = %d
}`, filepath.Join(modules, "queue"), retention, dlqRetention, size)
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
}`, filepath.Join(modules, "go-function"), zip, action)
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
			out, err := terraform.InitAndPlanE(t, rootWith(t, tc.bad, env))
			require.Error(t, err, "the plan must be refused")
			require.Contains(t, oneLine(out), tc.want)

			_, err = terraform.InitAndPlanE(t, rootWith(t, tc.control, env))
			require.NoError(t, err, "the control root must plan")
		})
	}
}

// rootWith writes a root module holding body and a bare provider block.
func rootWith(t *testing.T, body string, env map[string]string) *terraform.Options {
	t.Helper()
	dir := t.TempDir()
	src := "provider \"aws\" {}\n\n" + body + "\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.tf"), []byte(src), 0o600))
	return &terraform.Options{TerraformDir: dir, EnvVars: env, NoColor: true}
}

var boxAndSpace = regexp.MustCompile(`[│\s]+`)

// oneLine undoes Terraform's wrapping of diagnostics so messages can be matched.
func oneLine(s string) string {
	return strings.TrimSpace(boxAndSpace.ReplaceAllString(s, " "))
}
