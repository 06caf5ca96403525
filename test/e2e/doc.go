// Package e2e holds offload's end-to-end suites (build tag e2e): the whole
// system applied by test/harness to the emulator with the local Lambda
// runtime, or, with OFFLOAD_TEST_TARGET=aws, a deployed environment.
package e2e
