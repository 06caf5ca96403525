// Command doccheck lists exported identifiers without a doc comment in the Go
// files under a directory (tests excluded) and fails when there is any: every
// exported identifier of pkg/ — the library other services import — is
// documented. make lint runs it.
//
// Usage: go run ./scripts/doccheck DIR...
package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	bad := 0
	for _, dir := range os.Args[1:] {
		bad += check(dir)
	}
	if bad > 0 {
		fmt.Printf("%d exported identifier(s) without a doc comment\n", bad)
		os.Exit(1)
	}
}

// check reports the undocumented exported identifiers under dir.
func check(dir string) int {
	bad := 0
	_ = filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
		if err != nil {
			return nil
		}
		report := func(pos token.Pos, name string) {
			fmt.Printf("%s: %s\n", fset.Position(pos), name)
			bad++
		}
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Name.IsExported() && d.Doc == nil {
					if d.Recv != nil {
						// method on unexported type: skip
						t := d.Recv.List[0].Type
						if st, ok := t.(*ast.StarExpr); ok {
							t = st.X
						}
						if id, ok := t.(*ast.Ident); ok && !id.IsExported() {
							continue
						}
						if ix, ok := t.(*ast.IndexExpr); ok {
							if id, ok := ix.X.(*ast.Ident); ok && !id.IsExported() {
								continue
							}
						}
					}
					report(d.Pos(), d.Name.Name)
				}
			case *ast.GenDecl:
				for _, sp := range d.Specs {
					switch sp := sp.(type) {
					case *ast.TypeSpec:
						if sp.Name.IsExported() && sp.Doc == nil && d.Doc == nil {
							report(sp.Pos(), sp.Name.Name)
						}
					case *ast.ValueSpec:
						for _, n := range sp.Names {
							if n.IsExported() && sp.Doc == nil && d.Doc == nil && sp.Comment == nil {
								report(n.Pos(), n.Name)
							}
						}
					}
				}
			}
		}
		return nil
	})
	return bad
}
