package localrt

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// fixtureBin holds the fixture bootstraps (<fixtureBin>/<name>/bootstrap),
// built once per test binary from testdata/fixtures.
var fixtureBin string

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "localrt-fixtures-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	for _, name := range []string{"behave", "hello"} {
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, name, "bootstrap"), "./testdata/fixtures/"+name)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "build fixture %s: %v\n%s", name, err, out)
			return 1
		}
	}
	fixtureBin = dir
	return m.Run()
}
