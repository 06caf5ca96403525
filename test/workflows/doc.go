// Package workflows reads the repository's GitHub Actions workflow files and
// checks the rules the deployment pipeline depends on:
//
//   - no static AWS credentials: no aws-access-key-id / aws-secret-access-key
//     inputs, no AWS key variables, no secrets named like AWS access or secret keys;
//   - every job that assumes an AWS role (or deploys) has `id-token: write`
//     and assumes a role named by a GitHub variable, never a literal ARN;
//   - a job that deploys to an environment runs in the GitHub environment of
//     that name (plan-only jobs in `<env>` or `<env>-plan`); prod therefore
//     applies only behind the `prod` environment's protection rules;
//   - `make apply` applies only the reviewed plan: its PLAN_SHA256 is the
//     plan_sha256 output of the same environment's `make plan` step in an
//     upstream job (apply re-plans and refuses a different plan), and no plan
//     file, state or work directory is ever uploaded as an artifact;
//   - every action is pinned to a full 40-hex commit SHA with its version in a
//     trailing comment;
//   - every step that builds or tests calls a Makefile target, never the
//     tools directly;
//   - every job has a timeout, and no workflow runs on pull_request_target or
//     workflow_run (which run untrusted code with the repository's secrets).
//
// The package's tests run these checks on .github/workflows and on small bad
// workflows that each rule must reject.
package workflows
