package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCheckCountsUndocumentedExportedIdentifiersOnly(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src := `package p

// Documented is fine.
func Documented() {}

func Undocumented() {}

func unexported() {}

type T struct{}

// Method is documented.
func (T) Method() {}

func (T) Bare() {}

type hidden struct{}

func (hidden) Exported() {}

// Grouped constants share the group's comment.
const (
	A = 1
	B = 2
)

var V = 3
`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "p.go"), []byte(src), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "p_test.go"), []byte("package p\n\nfunc TestX() {}\n"), 0o600))
	// Undocumented, T, Bare, V.
	require.Equal(t, 4, check(dir))
}
