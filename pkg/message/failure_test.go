package message

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDecodeErrorIsPermanentAndNamesTheMessage(t *testing.T) {
	t.Parallel()
	cause := errors.New("unexpected end of JSON input")
	err := error(&DecodeError{Kind: "audit message", Err: cause})
	require.Equal(t, "decode audit message: unexpected end of JSON input", err.Error())
	require.ErrorIs(t, err, cause)
	c, ok := err.(interface {
		FailureClass() string
		Permanent() bool
	})
	require.True(t, ok)
	require.Equal(t, ClassDecode, c.FailureClass())
	require.True(t, c.Permanent())
}

func TestValidationErrorListsEveryProblemOnItsOwnLine(t *testing.T) {
	t.Parallel()
	v := ValidationError{Kind: "sms request"}
	require.NoError(t, v.Err(), "no problem, no error (and not a typed nil)")
	v.Add("requestId", "is empty")
	v.Add("body", "is empty")
	err := v.Err()
	require.Error(t, err)
	require.Equal(t, "invalid sms request: requestId is empty\ninvalid sms request: body is empty", err.Error())
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	require.Equal(t, []string{"requestId", "body"}, ve.Fields())
	require.Equal(t, ClassValidation, ve.FailureClass())
	require.True(t, ve.Permanent())
}

// classConstants reads the Class… constants of failure.go: name → value.
func classConstants(t *testing.T) map[string]string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "failure.go", nil, 0)
	require.NoError(t, err)
	classes := map[string]string{}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			vs := s.(*ast.ValueSpec)
			for i, n := range vs.Names {
				if !strings.HasPrefix(n.Name, "Class") {
					continue
				}
				lit, ok := vs.Values[i].(*ast.BasicLit)
				require.True(t, ok, "%s is a string literal", n.Name)
				v, err := strconv.Unquote(lit.Value)
				require.NoError(t, err)
				classes[n.Name] = v
			}
		}
	}
	require.NotEmpty(t, classes)
	return classes
}

// Every failure class offload writes is listed, with its constant, in
// docs/development.md ("Failure classes"), and the table lists no other.
func TestEveryFailureClassIsDocumented(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(filepath.Join("..", "..", "docs", "development.md"))
	require.NoError(t, err)
	doc := string(raw)
	start := strings.Index(doc, "\n## Failure classes\n")
	require.GreaterOrEqual(t, start, 0, "docs/development.md has a \"Failure classes\" section")
	section := doc[start+1:]
	if end := strings.Index(section[3:], "\n## "); end >= 0 {
		section = section[:end+3]
	}
	row := regexp.MustCompile("(?m)^\\| `([a-z-]+)` \\| `message\\.(Class[A-Za-z]+)` \\|")
	documented := map[string]string{}
	for _, m := range row.FindAllStringSubmatch(section, -1) {
		documented[m[2]] = m[1]
	}
	require.Equal(t, classConstants(t), documented, "rows: | `value` | `message.ClassName` | …")
}

// No class is spelled as a literal where a failure is raised: a class a
// runbook matches on must be one of the constants (a typo would be a class no
// alarm knows).
func TestNoFailureClassLiteralInProductCode(t *testing.T) {
	t.Parallel()
	root := filepath.Join("..", "..")
	literal := regexp.MustCompile(`batch\.Permanent\(\s*"`)
	var offenders []string
	for _, dir := range []string{"pkg", "functions", "cmd", "internal", "examples"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			src, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if literal.Match(src) {
				offenders = append(offenders, path)
			}
			return nil
		})
		if !errors.Is(err, fs.ErrNotExist) {
			require.NoError(t, err)
		}
	}
	require.Empty(t, offenders, "use a message.Class… constant")
}
