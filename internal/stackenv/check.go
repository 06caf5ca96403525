package stackenv

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/offload/offload/internal/envconfig"
)

// CheckFunction fails t unless the variables terraform/stack sets on the
// function folder are exactly those its settings struct reads, less the
// ones listed in leftToDefault (variable → why the Go default is right in
// every environment). root is the repository's root.
func CheckFunction(t *testing.T, root, folder string, settings any, leftToDefault map[string]string) {
	t.Helper()
	env, err := Environment(filepath.Join(root, "terraform", "stack"), nil)
	require.NoError(t, err)
	sets, ok := env[folder]
	require.True(t, ok, "terraform/stack deploys no function %q (it deploys %v)", folder, slices.Sorted(maps.Keys(env)))
	var reads []string
	for _, v := range envconfig.Vars(settings) {
		reads = append(reads, v.Name)
		require.NotEmpty(t, v.Doc, "%s has no doc tag: the docs table needs its meaning", v.Name)
	}
	for name, why := range leftToDefault {
		require.NotEmpty(t, why, "%s is left to its default: say why", name)
	}
	require.Empty(t, Diff(reads, sets, leftToDefault), "terraform/stack/functions.tf and %s's settings disagree", folder)
}

// CheckDocs fails t unless docs/development.md's table of the function's
// variables (between "<!-- begin settings:FOLDER -->" and "<!-- end
// settings:FOLDER -->") is the one envconfig.Table renders from its settings
// struct. With UPDATE_DOCS=1 it writes the table instead.
func CheckDocs(t *testing.T, root, folder string, settings any) {
	t.Helper()
	path := filepath.Join(root, "docs", "development.md")
	want := envconfig.Table(settings)
	if os.Getenv("UPDATE_DOCS") == "1" {
		// The three functions' tests may run at once: one writer at a time.
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		require.NoError(t, err)
		defer f.Close()
		require.NoError(t, syscall.Flock(int(f.Fd()), syscall.LOCK_EX))
		doc, err := os.ReadFile(path)
		require.NoError(t, err)
		_, updated, err := Section(string(doc), "settings:"+folder, want)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(path, []byte(updated), 0o644))
		return
	}
	doc, err := os.ReadFile(path)
	require.NoError(t, err)
	got, _, err := Section(string(doc), "settings:"+folder, want)
	require.NoError(t, err)
	require.Equal(t, want, got, "docs/development.md's table of %s is not its settings struct's: UPDATE_DOCS=1 go test ./functions/... -run TestSettingsDocs", folder)
}
