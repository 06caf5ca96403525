package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSharedFilesAreUpToDate fails when terraform/stack changed and the
// environment roots' generated files did not follow (make tfshared).
func TestSharedFilesAreUpToDate(t *testing.T) {
	t.Parallel()
	files, err := generate(filepath.Join("..", ".."))
	require.NoError(t, err)
	require.Len(t, files, 3)
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join("..", "..", name))
		require.NoError(t, err)
		require.Equal(t, string(want), string(got), "%s is stale: run make tfshared", name)
	}
}

// TestANewStackSettingIsOneEdit: a variable and an output added to the stack
// reach the roots' variables, module call and outputs; what root.tf declares
// is left to it.
func TestANewStackSettingIsOneEdit(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	write := func(name, src string) {
		t.Helper()
		path := filepath.Join(root, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(src), 0o600))
	}
	write("terraform/stack/variables.tf", `variable "environment" {
  type = string
}

# The new one.
variable "batch_size" {
  type        = number
  description = "Records per batch."
  default     = 10
}

variable "dist_dir" {
  type = string
}
`)
	write("terraform/stack/outputs.tf", `output "environment" {
  value = var.environment
}

output "queue_url" {
  description = "URL of the queue."
  value       = "u"
  sensitive   = true
}
`)
	write("terraform/environments/_shared/root.tf", `variable "dist_dir" {
  type    = string
  default = "../../../dist"
}

output "environment" {
  value = module.stack.environment
}
`)
	files, err := generate(root)
	require.NoError(t, err)
	vars := string(files["terraform/environments/_shared/variables.tf"])
	require.Contains(t, vars, "# The new one.\nvariable \"batch_size\" {\n  type        = number\n  description = \"Records per batch.\"\n  default     = 10\n}")
	require.NotContains(t, vars, `variable "environment"`, "each root's main.tf names its environment")
	require.NotContains(t, vars, `variable "dist_dir"`, "root.tf declares it")

	stack := string(files["terraform/environments/_shared/stack.tf"])
	require.Contains(t, stack, `source = "../../stack"`)
	for _, line := range []string{"environment = local.environment", "batch_size  = var.batch_size", "dist_dir    = var.dist_dir"} {
		require.Contains(t, stack, line)
	}

	outs := string(files["terraform/environments/_shared/outputs.tf"])
	require.Contains(t, outs, "output \"queue_url\" {\n  description = \"URL of the queue.\"\n  value       = module.stack.queue_url\n  sensitive   = true\n}")
	require.Equal(t, 1, strings.Count(outs, `output "`), "environment is root.tf's")
}
