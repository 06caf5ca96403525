package testenv_test

import (
	"regexp"
	"sync"
	"testing"

	"github.com/offload/offload/internal/testenv"
)

// Parallel tests and side-by-side test packages name their tables and queues
// at the same moment; the names must still differ (a clock-based suffix once
// made CI create one table twice).
func TestUniqueNamesTakenAtOnceDiffer(t *testing.T) {
	const workers, each = 8, 2000
	names := make(chan string, workers*each)
	var start, done sync.WaitGroup
	start.Add(1)
	for w := 0; w < workers; w++ {
		done.Add(1)
		go func() {
			defer done.Done()
			start.Wait()
			for i := 0; i < each; i++ {
				names <- testenv.UniqueName("idem")
			}
		}()
	}
	start.Done()
	done.Wait()
	close(names)
	valid := regexp.MustCompile(`^idem-[0-9a-f]{10}$`)
	seen := map[string]bool{}
	for n := range names {
		if !valid.MatchString(n) {
			t.Fatalf("%q is not prefix-<10 hex digits>", n)
		}
		if seen[n] {
			t.Fatalf("%q handed out twice", n)
		}
		seen[n] = true
	}
	if len(seen) != workers*each {
		t.Fatalf("got %d names, want %d", len(seen), workers*each)
	}
}
