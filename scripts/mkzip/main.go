// Command mkzip writes a Lambda deployment zip that is byte-identical for
// identical input: fixed timestamps, fixed permissions, no extra fields.
// A stable zip gives Terraform a stable source_code_hash, so an unchanged
// function is never redeployed.
//
// Usage: go run ./scripts/mkzip OUT.zip FILE...
// Each FILE is stored under its base name; bootstrap is marked executable.
package main

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// epoch is the earliest time a zip (MS-DOS) timestamp can hold.
var epoch = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "mkzip:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) < 2 {
		return errors.New("usage: mkzip OUT.zip FILE [FILE...]")
	}
	out := args[0]
	tmp := out + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if err := write(f, args[1:]); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, out)
}

func write(w io.Writer, files []string) error {
	zw := zip.NewWriter(w)
	for _, name := range files {
		if err := add(zw, name); err != nil {
			return fmt.Errorf("add %s: %w", name, err)
		}
	}
	return zw.Close()
}

func add(zw *zip.Writer, name string) error {
	src, err := os.Open(name)
	if err != nil {
		return err
	}
	defer src.Close()
	mode := os.FileMode(0o644)
	if filepath.Base(name) == "bootstrap" {
		mode = 0o755
	}
	hdr := &zip.FileHeader{Name: filepath.Base(name), Method: zip.Deflate, Modified: epoch}
	hdr.SetMode(mode)
	dst, err := zw.CreateHeader(hdr)
	if err != nil {
		return err
	}
	_, err = io.Copy(dst, src)
	return err
}
