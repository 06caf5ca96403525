// Package infra proves offload's Terraform against AWS or the emulator.
//
// The end-to-end test (build tag e2e, run by `make test`) copies
// terraform/environments/local with the modules and the stack to a temporary
// directory, applies it with a unique name prefix and fixture function zips,
// checks that a second plan is empty, asserts the deployed attributes through
// the AWS SDK (redrive policies, visibility timeouts, encryption, TLS-only
// policies, event source mappings, alarms, tags) and every role's exact
// permissions, then destroys it and checks that nothing is left.
//
// The IAM checker in this package (ParsePolicy, RoleGrants, DiffGrants,
// WildcardViolations) is plain code with its own unit tests, including the
// negative ones that prove it reports a widened policy.
package infra
