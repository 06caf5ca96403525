//go:build integration

package harness

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gruntwork-io/terratest/modules/terraform"
	"github.com/stretchr/testify/require"

	"github.com/offload/offload/internal/testenv"
)

// The fault CI met: the emulator makes the table, then answers CreateTable
// with a 500; the provider's SDK retries, meets the table ("already exists")
// and the apply fails with the table out of state. The harness adopts it.
func TestIntegrationApplyAdoptsATableWhoseCreateAnswerWasLost(t *testing.T) {
	testenv.Endpoint(t)
	repo, err := RepoRoot()
	require.NoError(t, err)
	if os.Getenv("TF_CLI_CONFIG_FILE") == "" || !exists(os.Getenv("TF_CLI_CONFIG_FILE")) {
		rc := filepath.Join(repo, ".local", "terraformrc")
		out, err := exec.Command("bash", filepath.Join(repo, "scripts", "tfconfig.sh"), rc).CombinedOutput()
		require.NoError(t, err, "%s", out)
		t.Setenv("TF_CLI_CONFIG_FILE", rc)
	}
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.tf"), []byte(`
terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = "~> 5.100" }
  }
}
variable "name" { type = string }
provider "aws" { region = "us-east-1" }
resource "aws_dynamodb_table" "this" {
  name         = var.name
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"
  attribute {
    name = "id"
    type = "S"
  }
}
`), 0o644))
	name := testenv.UniqueName("orphan")
	opts := &terraform.Options{TerraformDir: dir, Vars: map[string]any{"name": name}, NoColor: true}
	f := testenv.MustInjectFault(t, testenv.Fault{Service: "dynamodb", Operation: "CreateTable", Match: name, After: true,
		Error: &testenv.FaultError{Status: 500, Code: "InternalServerError"}})

	require.NoError(t, initAndApplyAdoptingOrphans(t, opts))

	n, err := testenv.Fired(testenv.Endpoint(t), f.ID)
	require.NoError(t, err)
	require.Equal(t, 1, n, "the create's first answer was lost")
	state, err := terraform.RunTerraformCommandE(t, opts, "state", "list")
	require.NoError(t, err)
	require.Contains(t, strings.Fields(state), "aws_dynamodb_table.this", "the table is in state")
	plan, err := terraform.RunTerraformCommandAndGetStdoutE(t, opts, terraform.FormatArgs(opts, "plan", "-input=false", "-detailed-exitcode")...)
	require.NoError(t, err, "nothing left to change after adopting the table: %s", plan)
}
