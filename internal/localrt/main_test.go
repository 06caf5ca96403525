package localrt

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
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

// syncBuffer is a bytes.Buffer safe for the runtime's log sink and a test
// reading it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
