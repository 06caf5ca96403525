//go:build e2e

package e2e

import (
	"os"
	"testing"

	"github.com/offload/offload/test/harness"
)

// stack is applied once for the package and shared by its tests.
var stack *harness.Stack

func TestMain(m *testing.M) {
	os.Exit(harness.Run(m, harness.Options{Name: "e2e"}, &stack))
}
