// Package stackenv tells which environment variables terraform/stack sets on
// each Lambda function, from the Terraform files alone: no terraform binary,
// no provider, no state, so the check runs in the unit tier.
//
// It evaluates, with HCL's own evaluator (github.com/hashicorp/hcl/v2 and
// go-cty, what Terraform itself is built on), the stack's module "function"
// call for each of its for_each keys, then the go-function module's
// aws_lambda_function environment with those inputs. Input variables take
// their defaults (or the values a caller passes); everything only known
// after apply — module outputs, resources, data sources — is unknown, which
// leaves values unknown but the variable names known, and the names are all
// the contract needs. A construct the evaluator does not know (a Terraform
// function missing from Functions) is an error, never a silent gap.
//
// Functions' tests use it to hold their settings struct and the stack to
// each other (see CheckFunction).
package stackenv

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/tryfunc"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// Functions are the Terraform functions the evaluator knows: those the
// stack's expressions on the way to a function's environment call.
var Functions = map[string]function.Function{
	"coalesce": stdlib.CoalesceFunc, "concat": stdlib.ConcatFunc, "contains": stdlib.ContainsFunc,
	"flatten": stdlib.FlattenFunc, "floor": stdlib.FloorFunc, "join": stdlib.JoinFunc,
	"jsonencode": stdlib.JSONEncodeFunc, "keys": stdlib.KeysFunc, "length": stdlib.LengthFunc,
	"lower": stdlib.LowerFunc, "max": stdlib.MaxFunc, "merge": stdlib.MergeFunc, "min": stdlib.MinFunc,
	"pow": stdlib.PowFunc, "range": stdlib.RangeFunc, "regex": stdlib.RegexFunc, "upper": stdlib.UpperFunc,
	"values": stdlib.ValuesFunc, "tostring": stdlib.MakeToFunc(cty.String), "tonumber": stdlib.MakeToFunc(cty.Number),
	"try": tryfunc.TryFunc, "can": tryfunc.CanFunc,
}

// Environment returns, for each function the stack's module "function"
// deploys (its for_each keys: the folders under functions/), the names of
// the environment variables its Lambda function gets, sorted. stackDir is
// terraform/stack; vars overrides input variables' defaults.
func Environment(stackDir string, vars map[string]cty.Value) (map[string][]string, error) {
	stack, err := load(stackDir, vars)
	if err != nil {
		return nil, err
	}
	call, ok := stack.modules["function"]
	if !ok {
		return nil, fmt.Errorf("%s: no module \"function\"", stackDir)
	}
	forEach, err := stack.eval(call.attrs["for_each"].Expr, nil)
	if err != nil {
		return nil, err
	}
	src, err := stack.eval(call.attrs["source"].Expr, nil)
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for it := forEach.ElementIterator(); it.Next(); {
		k, v := it.Element()
		each := cty.ObjectVal(map[string]cty.Value{"key": k, "value": v})
		inputs := map[string]cty.Value{}
		for name, a := range call.attrs {
			if name == "source" || name == "for_each" {
				continue
			}
			if inputs[name], err = stack.eval(a.Expr, &each); err != nil {
				return nil, err
			}
		}
		names, err := lambdaEnvironment(filepath.Join(stackDir, src.AsString()), inputs)
		if err != nil {
			return nil, fmt.Errorf("function %s: %w", k.AsString(), err)
		}
		out[k.AsString()] = names
	}
	return out, nil
}

// lambdaEnvironment evaluates the environment of the module's
// aws_lambda_function.
func lambdaEnvironment(dir string, inputs map[string]cty.Value) ([]string, error) {
	m, err := load(dir, inputs)
	if err != nil {
		return nil, err
	}
	if len(m.lambdaEnv) != 1 {
		return nil, fmt.Errorf("%s: want one aws_lambda_function with an environment block, found %d", dir, len(m.lambdaEnv))
	}
	env, err := m.eval(m.lambdaEnv[0].Expr, nil)
	if err != nil {
		return nil, err
	}
	if !env.IsKnown() || env.IsNull() || !(env.Type().IsObjectType() || env.Type().IsMapType()) {
		return nil, fmt.Errorf("%s: the environment's variable names are not known from the configuration alone (%#v)", dir, env)
	}
	var names []string
	for it := env.ElementIterator(); it.Next(); {
		k, _ := it.Element()
		names = append(names, k.AsString())
	}
	slices.Sort(names)
	return names, nil
}

type moduleCall struct{ attrs hcl.Attributes }

// module is one Terraform module's configuration: its locals, input
// variables (values), module calls and Lambda environment blocks.
type module struct {
	dir       string
	locals    map[string]*hcl.Attribute
	vars      map[string]cty.Value
	modules   map[string]moduleCall
	lambdaEnv []*hcl.Attribute
	done      map[string]cty.Value
	busy      map[string]bool
}

var fileSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
	{Type: "locals"}, {Type: "variable", LabelNames: []string{"name"}},
	{Type: "module", LabelNames: []string{"name"}}, {Type: "resource", LabelNames: []string{"type", "name"}},
}}

func load(dir string, inputs map[string]cty.Value) (*module, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.tf"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("%s: no Terraform files (%v)", dir, err)
	}
	m := &module{dir: dir, locals: map[string]*hcl.Attribute{}, vars: map[string]cty.Value{},
		modules: map[string]moduleCall{}, done: map[string]cty.Value{}, busy: map[string]bool{}}
	p := hclparse.NewParser()
	for _, name := range files {
		src, err := os.ReadFile(name)
		if err != nil {
			return nil, err
		}
		f, diags := p.ParseHCL(src, name)
		if diags.HasErrors() {
			return nil, diags
		}
		content, _, diags := f.Body.PartialContent(fileSchema)
		if diags.HasErrors() {
			return nil, diags
		}
		for _, b := range content.Blocks {
			if err := m.add(b, inputs); err != nil {
				return nil, err
			}
		}
	}
	for name, v := range inputs {
		m.vars[name] = v
	}
	return m, nil
}

func (m *module) add(b *hcl.Block, inputs map[string]cty.Value) error {
	switch b.Type {
	case "locals":
		attrs, diags := b.Body.JustAttributes()
		if diags.HasErrors() {
			return diags
		}
		for k, a := range attrs {
			m.locals[k] = a
		}
	case "variable":
		c, _, diags := b.Body.PartialContent(&hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "default"}}})
		if diags.HasErrors() {
			return diags
		}
		m.vars[b.Labels[0]] = cty.DynamicVal // required: known after the caller sets it
		if a, ok := c.Attributes["default"]; ok {
			v, diags := a.Expr.Value(nil)
			if diags.HasErrors() {
				return diags
			}
			m.vars[b.Labels[0]] = v
		}
	case "module":
		attrs, diags := b.Body.JustAttributes()
		if diags.HasErrors() {
			return diags
		}
		m.modules[b.Labels[0]] = moduleCall{attrs: attrs}
	case "resource":
		if b.Labels[0] != "aws_lambda_function" {
			return nil
		}
		c, _, diags := b.Body.PartialContent(&hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "environment"}}})
		if diags.HasErrors() {
			return diags
		}
		for _, env := range c.Blocks {
			ec, _, diags := env.Body.PartialContent(&hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "variables", Required: true}}})
			if diags.HasErrors() {
				return diags
			}
			m.lambdaEnv = append(m.lambdaEnv, ec.Attributes["variables"])
		}
	}
	return nil
}

// eval evaluates expr in the module, each being for_each's each (or nil).
func (m *module) eval(expr hcl.Expression, each *cty.Value) (cty.Value, error) {
	ctx := &hcl.EvalContext{Variables: map[string]cty.Value{}, Functions: Functions}
	for _, tr := range expr.Variables() {
		root := tr.RootName()
		switch root {
		case "local":
			name, ok := attrName(tr)
			if !ok {
				return cty.NilVal, fmt.Errorf("%s: cannot read %s", m.dir, tr.SimpleSplit().Abs)
			}
			if _, err := m.local(name); err != nil {
				return cty.NilVal, err
			}
		case "var", "each":
		default: // module.*, resources, data sources, path, terraform: known after apply
			ctx.Variables[root] = cty.DynamicVal
		}
	}
	ctx.Variables["local"] = cty.ObjectVal(m.done)
	ctx.Variables["var"] = cty.ObjectVal(m.vars)
	if each != nil {
		ctx.Variables["each"] = *each
	}
	v, diags := expr.Value(ctx)
	if diags.HasErrors() {
		return cty.NilVal, fmt.Errorf("%s: %w", m.dir, diags)
	}
	return v, nil
}

func (m *module) local(name string) (cty.Value, error) {
	if v, ok := m.done[name]; ok {
		return v, nil
	}
	a, ok := m.locals[name]
	if !ok {
		return cty.NilVal, fmt.Errorf("%s: no local %q", m.dir, name)
	}
	if m.busy[name] {
		return cty.NilVal, fmt.Errorf("%s: local %q depends on itself", m.dir, name)
	}
	m.busy[name] = true
	v, err := m.eval(a.Expr, nil)
	if err != nil {
		return cty.NilVal, fmt.Errorf("local.%s: %w", name, err)
	}
	m.done[name] = v
	return v, nil
}

func attrName(tr hcl.Traversal) (string, bool) {
	if len(tr) < 2 {
		return "", false
	}
	a, ok := tr[1].(hcl.TraverseAttr)
	return a.Name, ok
}

// Diff compares what a settings struct reads with what the stack sets on
// the function: set but not read (drift: a variable nobody reads), and read
// but neither set nor listed in defaults (the variables deliberately left
// to the Go default, each with its reason). A listed default that the stack
// sets after all is reported too. Empty: no drift.
func Diff(reads, sets []string, defaults map[string]string) []string {
	var out []string
	for _, s := range sets {
		if !slices.Contains(reads, s) {
			out = append(out, fmt.Sprintf("%s: the stack sets it but the function does not read it", s))
		}
		if _, ok := defaults[s]; ok {
			out = append(out, fmt.Sprintf("%s: listed as left to its default, but the stack sets it", s))
		}
	}
	for _, r := range reads {
		_, listed := defaults[r]
		if !listed && !slices.Contains(sets, r) {
			out = append(out, fmt.Sprintf("%s: the function reads it but the stack does not set it (set it in functions.tf, or list it as left to its default, with why)", r))
		}
	}
	for d := range defaults {
		if !slices.Contains(reads, d) {
			out = append(out, fmt.Sprintf("%s: listed as left to its default, but the function does not read it", d))
		}
	}
	slices.Sort(out)
	return out
}

// Section returns the text of doc between the lines "<!-- begin NAME -->"
// and "<!-- end NAME -->", and doc with that text replaced by repl.
func Section(doc, name, repl string) (got, updated string, err error) {
	begin, end := "<!-- begin "+name+" -->\n", "<!-- end "+name+" -->"
	i := strings.Index(doc, begin)
	j := strings.Index(doc, end)
	if i < 0 || j < i {
		return "", doc, fmt.Errorf("no section %q (lines %q … %q)", name, strings.TrimSpace(begin), end)
	}
	i += len(begin)
	return doc[i:j], doc[:i] + repl + doc[j:], nil
}
