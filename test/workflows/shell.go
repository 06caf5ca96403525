package workflows

import (
	"path"
	"strings"
)

// MakeCall is one `make` invocation found in a run script.
type MakeCall struct {
	// Targets are the goals in order ("plan", "apply").
	Targets []string
	// Vars are the VAR=value assignments on the command line.
	Vars map[string]string
}

// Has reports whether target is one of the call's goals.
func (c MakeCall) Has(target string) bool {
	for _, t := range c.Targets {
		if t == target {
			return true
		}
	}
	return false
}

// commands splits a run script into simple commands, each a list of words.
// It understands what workflow scripts use: line continuations, `&&`, `||`,
// `;`, `|`, redirections, comments and quotes. It is not a shell parser.
func commands(script string) [][]string {
	script = strings.ReplaceAll(script, "\\\n", " ")
	var out [][]string
	for _, line := range strings.Split(script, "\n") {
		out = append(out, lineCommands([]rune(line))...)
	}
	return out
}

func lineCommands(runes []rune) [][]string {
	var (
		out      [][]string
		words    []string
		word     strings.Builder
		quote    rune
		have     bool
		dropNext bool // the next word is a redirection target
	)
	flushWord := func() {
		if have {
			if dropNext {
				dropNext = false
			} else {
				words = append(words, word.String())
			}
		}
		word.Reset()
		have = false
	}
	flushCmd := func() {
		flushWord()
		if len(words) > 0 {
			out = append(out, words)
		}
		words, dropNext = nil, false
	}
	for i := 0; i < len(runes); i++ {
		r := runes[i]
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				word.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, have = r, true
		case r == '#' && !have:
			flushCmd()
			return out
		case r == ' ' || r == '\t':
			flushWord()
		case r == '>' || r == '<':
			if have && strings.Trim(word.String(), "0123456789") == "" {
				word.Reset() // the fd number of 2>&1
				have = false
			}
			flushWord()
			for i+1 < len(runes) && (runes[i+1] == '>' || runes[i+1] == '<') {
				i++
			}
			if i+1 < len(runes) && runes[i+1] == '&' {
				i++
				for i+1 < len(runes) && (runes[i+1] >= '0' && runes[i+1] <= '9' || runes[i+1] == '-') {
					i++
				}
			} else {
				dropNext = true
			}
		case r == ';' || r == '|' || r == '&' || r == '(' || r == ')':
			flushCmd()
		default:
			word.WriteRune(r)
			have = true
		}
	}
	flushCmd()
	return out
}

// program returns the word that names the program a command runs, skipping
// leading VAR=value assignments and wrappers such as env, time or sudo.
func program(words []string) (string, []string) {
	for i := 0; i < len(words); i++ {
		w := words[i]
		switch {
		case isAssignment(w):
			continue
		case w == "env" || w == "time" || w == "sudo" || w == "exec" || w == "command" || w == "nice":
			continue
		case (w == "-u" || w == "--unset") && i > 0:
			i++ // env -u VAR
		case strings.HasPrefix(w, "-") && i > 0:
			continue // another wrapper flag
		default:
			return w, words[i+1:]
		}
	}
	return "", nil
}

func isAssignment(w string) bool {
	name, _, ok := strings.Cut(w, "=")
	if !ok || name == "" {
		return false
	}
	for i, r := range name {
		if !(r == '_' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// makeCalls returns the make invocations in a run script.
func makeCalls(script string) []MakeCall {
	var calls []MakeCall
	for _, words := range commands(script) {
		prog, args := program(words)
		if path.Base(prog) != "make" && path.Base(prog) != "gmake" {
			continue
		}
		c := MakeCall{Vars: map[string]string{}}
		for i := 0; i < len(args); i++ {
			a := args[i]
			switch {
			case a == "-C" || a == "-f" || a == "-I" || a == "-o" || a == "-W" || a == "--directory" || a == "--file":
				i++ // the flag's argument
			case strings.HasPrefix(a, "-"):
			case isAssignment(a):
				k, v, _ := strings.Cut(a, "=")
				c.Vars[k] = v
			default:
				c.Targets = append(c.Targets, a)
			}
		}
		calls = append(calls, c)
	}
	return calls
}

// directTools are programs that build, test or deploy; a workflow reaches
// them only through the Makefile.
var directTools = map[string]bool{
	"go": true, "gofmt": true, "terraform": true, "tofu": true, "terragrunt": true,
	"actionlint": true, "tfsec": true, "trivy": true, "staticcheck": true, "golangci-lint": true,
	"gotestsum": true, "tflint": true, "pytest": true, "npm": true, "npx": true, "yarn": true,
	"docker": true, "aws": true, "zip": true,
}

// directToolCalls returns the commands in a run script that build, test or
// deploy without make: a tool from directTools, a repository script
// (./x, scripts/x, .ci/x, bash x.sh), or python running anything but pip.
func directToolCalls(script string) []string {
	var found []string
	for _, words := range commands(script) {
		prog, args := program(words)
		base := path.Base(prog)
		direct := directTools[base] ||
			strings.HasPrefix(prog, "./") || strings.HasPrefix(prog, "scripts/") || strings.HasPrefix(prog, ".ci/") ||
			strings.HasSuffix(prog, ".sh")
		switch base {
		case "bash", "sh":
			direct = len(args) > 0 && !strings.HasPrefix(args[0], "-")
		case "python", "python3":
			direct = !(len(args) >= 2 && args[0] == "-m" && args[1] == "pip")
		}
		if direct {
			found = append(found, strings.Join(words, " "))
		}
	}
	return found
}
