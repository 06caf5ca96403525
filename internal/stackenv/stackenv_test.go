package stackenv_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/zclconf/go-cty/cty"

	"github.com/offload/offload/internal/stackenv"
)

// The names come out of for_each, merges, conditionals on variables, for
// expressions with computed keys and the function module's own additions,
// with values known only after apply left unknown.
func TestEnvironment(t *testing.T) {
	t.Parallel()
	env, err := stackenv.Environment("testdata/stack", nil)
	require.NoError(t, err)
	require.Equal(t, map[string][]string{
		"one": {"LOG_LEVEL", "ONE_URL", "TABLE"},
		"two": {"LOG_LEVEL", "REGION", "TOPIC"},
	}, env)

	env, err = stackenv.Environment("testdata/stack", map[string]cty.Value{"flag": cty.StringVal("on")})
	require.NoError(t, err)
	require.Equal(t, []string{"FLAG", "LOG_LEVEL", "REGION", "TOPIC"}, env["two"])
}

// A function the evaluator does not know is an error, not a gap.
func TestUnknownFunctionIsAnError(t *testing.T) {
	t.Parallel()
	_, err := stackenv.Environment("testdata/badstack", nil)
	require.ErrorContains(t, err, "base64encode")
}

func TestDiff(t *testing.T) {
	t.Parallel()
	require.Empty(t, stackenv.Diff([]string{"A", "B", "C"}, []string{"A", "B"}, map[string]string{"C": "why"}))
	require.Equal(t, []string{
		"B: listed as left to its default, but the stack sets it",
		"C: the function reads it but the stack does not set it (set it in functions.tf, or list it as left to its default, with why)",
		"D: the stack sets it but the function does not read it",
		"E: listed as left to its default, but the function does not read it",
	}, stackenv.Diff([]string{"A", "B", "C"}, []string{"A", "B", "D"}, map[string]string{"B": "why", "E": "why"}))
}

func TestSection(t *testing.T) {
	t.Parallel()
	doc := "intro\n<!-- begin t -->\nold\n<!-- end t -->\nrest\n"
	got, updated, err := stackenv.Section(doc, "t", "new\n")
	require.NoError(t, err)
	require.Equal(t, "old\n", got)
	require.Equal(t, "intro\n<!-- begin t -->\nnew\n<!-- end t -->\nrest\n", updated)
	_, _, err = stackenv.Section(doc, "other", "")
	require.Error(t, err)
}
