package main

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestZipIsByteIdenticalAcrossMtimesAndModes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bootstrap := filepath.Join(dir, "bootstrap")
	require.NoError(t, os.WriteFile(bootstrap, []byte("binary"), 0o600))

	first := filepath.Join(dir, "a.zip")
	require.NoError(t, run([]string{first, bootstrap}))

	// A later build touches the file and loosens its mode: the zip must not change.
	later := time.Now().Add(time.Hour)
	require.NoError(t, os.Chtimes(bootstrap, later, later))
	require.NoError(t, os.Chmod(bootstrap, 0o777))
	second := filepath.Join(dir, "b.zip")
	require.NoError(t, run([]string{second, bootstrap}))

	a, err := os.ReadFile(first)
	require.NoError(t, err)
	b, err := os.ReadFile(second)
	require.NoError(t, err)
	require.True(t, bytes.Equal(a, b), "zips differ")

	zr, err := zip.NewReader(bytes.NewReader(a), int64(len(a)))
	require.NoError(t, err)
	require.Len(t, zr.File, 1)
	require.Equal(t, "bootstrap", zr.File[0].Name)
	require.Equal(t, os.FileMode(0o755), zr.File[0].Mode().Perm(), "Lambda needs bootstrap executable")
	require.True(t, zr.File[0].Modified.Equal(epoch), "fixed timestamp, got %v", zr.File[0].Modified)
}

func TestRunRejectsMissingInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out := filepath.Join(dir, "x.zip")
	require.Error(t, run([]string{out, filepath.Join(dir, "missing")}))
	_, err := os.Stat(out)
	require.True(t, os.IsNotExist(err), "no partial zip left behind")
	require.Error(t, run([]string{out}))
}
