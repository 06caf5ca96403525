// Package harness runs offload's end-to-end tests: it brings up one stack per
// test package and offers the helpers the suites drive it with.
//
// Target (OFFLOAD_TEST_TARGET):
//
//   - local (default): the terraform/ tree is copied to a work directory,
//     environments/local is applied with a unique name prefix to the emulator
//     named by AWS_ENDPOINT_URL (make test starts it), and the local Lambda
//     runtime (internal/localrt) runs in-process on that stack's functions and
//     alarms, with the X-Ray daemon. Down destroys it, even after a failure.
//   - aws: nothing is applied and no runtime runs. The outputs come from the
//     JSON file named by OFFLOAD_OUTPUTS_FILE (`terraform output -json` of a
//     deployed environment, as `make outputs` writes it); test data is
//     namespaced by a unique prefix and what the helpers create is removed.
//
// One stack per package, applied once in TestMain and shared by the
// package's tests:
//
//	var stack *harness.Stack
//
//	func TestMain(m *testing.M) { os.Exit(harness.Run(m, harness.Options{}, &stack)) }
//
// While iterating, terratest's stage switches skip the slow parts: keep the
// work directory with OFFLOAD_E2E_WORKDIR, then
//
//	SKIP_teardown=1            deploy and keep the stack
//	SKIP_deploy=1 SKIP_teardown=1  reuse it (the runtime still starts)
//	SKIP_deploy=1              reuse it, then destroy it
//
// Helpers come as Foo(t, …) that fail the test and FooE(…) that return errors.
package harness
