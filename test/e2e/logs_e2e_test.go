//go:build e2e

package e2e

import (
	"bufio"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/offload/offload/test/harness"
)

// logLine is one JSON log line a function wrote.
type logLine map[string]any

func (l logLine) str(k string) string {
	s, _ := l[k].(string)
	return s
}

// functionLogs returns the JSON lines the deployed function (by folder name)
// has written so far, from the local runtime's log. Locally only: a deployed
// environment's logs are in CloudWatch.
func functionLogs(t *testing.T, folder string) []logLine {
	t.Helper()
	require.Equal(t, harness.TargetLocal, stack.Target, "function logs are read from the local runtime")
	name := stack.Outputs.FunctionNames[folder]
	require.NotEmpty(t, name, "outputs name the %s function", folder)
	f, err := os.Open(stack.RuntimeLog)
	require.NoError(t, err)
	defer f.Close()
	var out []logLine
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		i := strings.IndexByte(line, '{')
		if i < 0 {
			continue
		}
		var l logLine
		if json.Unmarshal([]byte(line[i:]), &l) != nil {
			continue
		}
		if l.str("function") == name {
			out = append(out, l)
		}
	}
	require.NoError(t, sc.Err())
	return out
}
