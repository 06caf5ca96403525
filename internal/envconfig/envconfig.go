// Package envconfig reads a function's settings from environment variables
// into one struct whose fields say, in tags, which variable they read, its
// default and its bounds:
//
//	type settings struct {
//		TableName   string        `env:"AUDIT_TABLE_NAME,required" doc:"the AuditMessages table"`
//		Concurrency int           `env:"AUDIT_CONCURRENCY" default:"10" min:"1" max:"100" doc:"records written at once"`
//		Backoff     time.Duration `env:"AUDIT_BACKOFF_BASE" default:"5s" doc:"first retry delay"`
//	}
//
// Tags: env (the name, then ",required"), default, min and max (inclusive,
// for numbers and durations), oneof (space-separated values, matched without
// regard to case and stored as spelled in the tag) and doc (one line for the
// table in docs/development.md, which Table renders). Field types: string,
// bool, int, float64, time.Duration (always positive) and map[string]bool (a
// comma-separated set; empty items are dropped). Embedded structs are read
// too, so settings shared by several functions are declared once. An empty
// variable counts as unset.
//
// Load reports every bad variable at once, each with its name, the bound it
// violates and the value it got, in the style of the repository's
// constructors. Vars lists what a struct reads, for the tests that hold
// Terraform and the docs to it.
//
// Why not a library: the maintained ones (sethvargo/go-envconfig,
// caarlos0/env) have no bounds tags, so bounds would be a second layer of
// hand-written checks beside the tags, and they report only the first error
// or an error of their own shape; none lists a struct's variables with their
// defaults and bounds for the docs. This package is one file with no
// dependencies, which also keeps the functions' zips small
// (docs/development.md, "Function size budget").
package envconfig

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Var describes one variable a settings struct reads.
type Var struct {
	// Name is the environment variable.
	Name string
	// Required variables have no default: Load fails when they are unset.
	Required bool
	// Default is the value used when the variable is unset ("" for the zero value).
	Default string
	// Min and Max are inclusive bounds ("" when there is none).
	Min, Max string
	// OneOf lists the accepted values, when the field takes only those.
	OneOf []string
	// Doc says what the variable means, in one line.
	Doc string
	// Field is the Go field path, e.g. "Consumer.DLQURL".
	Field string

	index []int
	typ   reflect.Type
}

var durationType = reflect.TypeFor[time.Duration]()

// Vars lists the variables the struct pointed to by (or passed as) v reads,
// in field order, embedded structs in place. It panics on a field with an
// env tag whose type or tags are not supported: a programming error, found by
// any test that loads the settings.
func Vars(v any) []Var {
	t := reflect.TypeOf(v)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		panic(fmt.Sprintf("envconfig: %s is not a struct", t))
	}
	var out []Var
	collect(t, nil, "", &out)
	seen := map[string]string{}
	for _, v := range out {
		if other, dup := seen[v.Name]; dup {
			panic(fmt.Sprintf("envconfig: %s is read by both %s and %s", v.Name, other, v.Field))
		}
		seen[v.Name] = v.Field
	}
	return out
}

func collect(t reflect.Type, index []int, path string, out *[]Var) {
	for i := range t.NumField() {
		f := t.Field(i)
		idx := append(append([]int(nil), index...), i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			collect(f.Type, idx, path+f.Name+".", out)
			continue
		}
		tag, ok := f.Tag.Lookup("env")
		if !ok {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		v := Var{Name: name, Required: opts == "required", Default: f.Tag.Get("default"),
			Min: f.Tag.Get("min"), Max: f.Tag.Get("max"), Doc: f.Tag.Get("doc"),
			Field: path + f.Name, index: idx, typ: f.Type}
		if o := f.Tag.Get("oneof"); o != "" {
			v.OneOf = strings.Fields(o)
		}
		if name == "" || (opts != "" && opts != "required") || !f.IsExported() {
			panic(fmt.Sprintf("envconfig: field %s: bad env tag %q (want NAME or NAME,required on an exported field)", v.Field, tag))
		}
		if v.Required && v.Default != "" {
			panic(fmt.Sprintf("envconfig: field %s: a required variable has no default", v.Field))
		}
		if !supported(f.Type) {
			panic(fmt.Sprintf("envconfig: field %s: type %s is not supported", v.Field, f.Type))
		}
		// Every default and bound must itself parse: checked here, once.
		for what, s := range map[string]string{"default": v.Default, "min": v.Min, "max": v.Max} {
			if s == "" {
				continue
			}
			if _, err := parse(v, s, what != "default"); err != nil {
				panic(fmt.Sprintf("envconfig: field %s: %s %q: %v", v.Field, what, s, err))
			}
		}
		*out = append(*out, v)
	}
}

func supported(t reflect.Type) bool {
	if t == durationType {
		return true
	}
	switch t.Kind() {
	case reflect.String, reflect.Bool, reflect.Int, reflect.Float64:
		return true
	case reflect.Map:
		return t.Key().Kind() == reflect.String && t.Elem().Kind() == reflect.Bool
	}
	return false
}

// Load sets the fields of the struct dst points to from getenv (os.Getenv,
// or a map's lookup in tests): each variable's value, else its default. It
// returns every problem at once, joined, each naming its variable.
func Load(getenv func(string) string, dst any) error {
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.Elem().Kind() != reflect.Struct {
		panic(fmt.Sprintf("envconfig: Load wants a pointer to a struct, got %T", dst))
	}
	var errs []error
	for _, v := range Vars(dst) {
		raw := strings.TrimSpace(getenv(v.Name))
		if raw == "" && v.Required {
			errs = append(errs, fmt.Errorf("%s is required", v.Name))
			continue
		}
		checked := raw != ""
		if raw == "" {
			raw = v.Default
		}
		if raw == "" {
			continue
		}
		val, err := parse(v, raw, !checked)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s must be %s, got %q", v.Name, v.Accepts(), raw))
			continue
		}
		if v.Required && val.Kind() == reflect.Map && val.Len() == 0 {
			errs = append(errs, fmt.Errorf("%s is required (%s), got %q", v.Name, v.Accepts(), raw))
			continue
		}
		rv.Elem().FieldByIndex(v.index).Set(val)
	}
	return errors.Join(errs...)
}

// parse converts s to v's type; unless trusted, it also checks the bounds.
func parse(v Var, s string, trusted bool) (reflect.Value, error) {
	out := reflect.New(v.typ).Elem()
	switch {
	case v.typ == durationType:
		d, err := time.ParseDuration(s)
		if err != nil {
			return out, err
		}
		if !trusted && (d <= 0 || (v.Min != "" && d < mustDuration(v.Min)) || (v.Max != "" && d > mustDuration(v.Max))) {
			return out, errors.New("out of bounds")
		}
		out.SetInt(int64(d))
	case v.typ.Kind() == reflect.String:
		if len(v.OneOf) > 0 {
			i := indexFold(v.OneOf, s)
			if i < 0 {
				return out, errors.New("not one of the values")
			}
			s = v.OneOf[i]
		}
		out.SetString(s)
	case v.typ.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return out, err
		}
		out.SetBool(b)
	case v.typ.Kind() == reflect.Int:
		n, err := strconv.Atoi(s)
		if err != nil {
			return out, err
		}
		if !trusted && ((v.Min != "" && n < mustInt(v.Min)) || (v.Max != "" && n > mustInt(v.Max))) {
			return out, errors.New("out of bounds")
		}
		out.SetInt(int64(n))
	case v.typ.Kind() == reflect.Float64:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return out, err
		}
		if !trusted && ((v.Min != "" && f < mustFloat(v.Min)) || (v.Max != "" && f > mustFloat(v.Max))) {
			return out, errors.New("out of bounds")
		}
		out.SetFloat(f)
	case v.typ.Kind() == reflect.Map:
		set := reflect.MakeMap(v.typ)
		for _, item := range strings.Split(s, ",") {
			if item = strings.TrimSpace(item); item != "" {
				set.SetMapIndex(reflect.ValueOf(item), reflect.ValueOf(true))
			}
		}
		out.Set(set)
	}
	return out, nil
}

// Accepts says in words what the variable accepts ("an integer from 1 to
// 100", "sns or twilio"), as Load's errors and Table put it.
func (v Var) Accepts() string {
	switch {
	case v.typ == durationType:
		return "a positive duration such as 30s" + v.bounds(" (", ")")
	case len(v.OneOf) > 0:
		return orList(v.OneOf)
	case v.typ.Kind() == reflect.Bool:
		return "true or false"
	case v.typ.Kind() == reflect.Int:
		return "an integer" + v.bounds(" ", "")
	case v.typ.Kind() == reflect.Float64:
		return "a number" + v.bounds(" ", "")
	case v.typ.Kind() == reflect.Map:
		return "a comma-separated list"
	}
	return "a string"
}

func (v Var) bounds(before, after string) string {
	var s string
	switch {
	case v.Min != "" && v.Max != "":
		s = "from " + v.Min + " to " + v.Max
	case v.Min != "":
		s = "≥ " + v.Min
	case v.Max != "":
		s = "≤ " + v.Max
	default:
		return ""
	}
	return before + s + after
}

// Values returns the value of each variable of the struct v, as text
// (durations as 1m30s, sets sorted and comma-separated), by variable name:
// for the line a function logs when it is ready.
func Values(v any) map[string]string {
	rv := reflect.Indirect(reflect.ValueOf(v))
	out := map[string]string{}
	for _, x := range Vars(v) {
		f := rv.FieldByIndex(x.index)
		if f.Kind() == reflect.Map {
			keys := make([]string, 0, f.Len())
			for _, k := range f.MapKeys() {
				keys = append(keys, k.String())
			}
			slices.Sort(keys)
			out[x.Name] = strings.Join(keys, ",")
			continue
		}
		out[x.Name] = fmt.Sprint(f.Interface())
	}
	return out
}

// Table renders the variables of v as the Markdown table docs/development.md
// shows for each function: variable, default, accepted values, meaning.
func Table(v any) string {
	var b strings.Builder
	b.WriteString("| variable | default | accepts | meaning |\n|---|---|---|---|\n")
	for _, x := range Vars(v) {
		def := "`" + x.Default + "`"
		switch {
		case x.Required:
			def = "required"
		case x.Default == "":
			def = "unset"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", x.Name, def, x.Accepts(), x.Doc)
	}
	return b.String()
}

func orList(items []string) string {
	if len(items) == 1 {
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}

func indexFold(list []string, s string) int {
	for i, x := range list {
		if strings.EqualFold(x, s) {
			return i
		}
	}
	return -1
}

// The bounds parsed when Vars checked them: these cannot fail.

func mustDuration(s string) time.Duration { d, _ := time.ParseDuration(s); return d }
func mustInt(s string) int                { n, _ := strconv.Atoi(s); return n }
func mustFloat(s string) float64          { f, _ := strconv.ParseFloat(s, 64); return f }
