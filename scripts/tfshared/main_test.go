package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSharedFilesAreUpToDate fails when terraform/stack changed and the
// environment roots' generated files did not follow (make tfshared), or when
// the roots' variables are no longer the stack's own file.
func TestSharedFilesAreUpToDate(t *testing.T) {
	t.Parallel()
	files, err := generate(filepath.Join("..", ".."))
	require.NoError(t, err)
	require.Len(t, files, 2)
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join("..", "..", name))
		require.NoError(t, err)
		require.Equal(t, string(want), string(got), "%s is stale: run make tfshared", name)
	}
	require.Len(t, links, 1)
	for name, target := range links {
		got, err := os.Readlink(filepath.Join("..", "..", name))
		require.NoError(t, err, "%s must be a link: run make tfshared", name)
		require.Equal(t, target, got)
		linked, err := os.ReadFile(filepath.Join("..", "..", name))
		require.NoError(t, err)
		stack, err := os.ReadFile(filepath.Join("..", "..", stackDir, "variables.tf"))
		require.NoError(t, err)
		require.Equal(t, string(stack), string(linked), "%s reads the stack's variables.tf", name)
	}
}

// TestANewStackSettingIsOneEdit: a variable and an output added to the stack
// reach the roots' module call and outputs (the roots declare the variable
// through the link to the stack's variables.tf); what root.tf declares is
// left to it.
func TestANewStackSettingIsOneEdit(t *testing.T) {
	t.Parallel()
	root := fixture(t, `variable "name_prefix" {
  type = string
}

# The new one.
variable "batch_size" {
  type        = number
  description = "Records per batch."
  default     = 10
}
`)
	files, err := generate(root)
	require.NoError(t, err)
	require.NotContains(t, files, "terraform/environments/_shared/variables.tf", "a link, not a copy")

	stack := string(files["terraform/environments/_shared/stack.tf"])
	require.Contains(t, stack, `source = "../../stack"`)
	for _, line := range []string{"environment = local.environment", "batch_size  = var.batch_size", "dist_dir    = var.dist_dir", "name_prefix = var.name_prefix"} {
		require.Contains(t, stack, line)
	}
	require.Equal(t, 1, strings.Count(stack, "var.dist_dir"), "passed once")

	outs := string(files["terraform/environments/_shared/outputs.tf"])
	require.Contains(t, outs, "output \"queue_url\" {\n  description = \"URL of the queue.\"\n  value       = module.stack.queue_url\n  sensitive   = true\n}")
	require.Equal(t, 1, strings.Count(outs, `output "`), "environment is root.tf's")
}

// TestAVariableDeclaredTwiceIsRefused: a setting root.tf also declares, or
// an input of inputs.tf that no root declares, would not plan; tfshared says
// which and where it goes.
func TestAVariableDeclaredTwiceIsRefused(t *testing.T) {
	t.Parallel()
	_, err := generate(fixture(t, `variable "dist_dir" {
  type = string
}
`))
	require.ErrorContains(t, err, `variable "dist_dir" is declared again by the roots`)

	root := fixture(t, `variable "name_prefix" {
  type = string
}
`)
	write(t, root, "terraform/stack/inputs.tf", `variable "environment" {
  type = string
}

variable "region_name" {
  type = string
}
`)
	_, err = generate(root)
	require.ErrorContains(t, err, `variable "region_name" is no setting the roots link`)
}

// fixture writes a repository root whose stack has settings (its
// variables.tf), the inputs environment and dist_dir, two outputs, and a
// root.tf declaring dist_dir and the environment output.
func fixture(t *testing.T, settings string) string {
	t.Helper()
	root := t.TempDir()
	write(t, root, "terraform/stack/variables.tf", settings)
	write(t, root, "terraform/stack/inputs.tf", `variable "environment" {
  type = string
}

variable "dist_dir" {
  type = string
}
`)
	write(t, root, "terraform/stack/outputs.tf", `output "environment" {
  value = var.environment
}

output "queue_url" {
  description = "URL of the queue."
  value       = "u"
  sensitive   = true
}
`)
	write(t, root, "terraform/environments/_shared/root.tf", `variable "dist_dir" {
  type    = string
  default = "../../../dist"
}

output "environment" {
  value = module.stack.environment
}
`)
	return root
}

func write(t *testing.T, root, name, src string) {
	t.Helper()
	path := filepath.Join(root, name)
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(src), 0o600))
}
