package workflows

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Workflow is the part of a GitHub Actions workflow file the checks read.
type Workflow struct {
	// File is the name the workflow was parsed under (used in findings).
	File string
	// Name is the workflow's `name:`.
	Name string
	// Events lists the triggers under `on:`, in file order.
	Events []string
	// EventLines holds the line of each trigger.
	EventLines map[string]int
	// Permissions is the workflow-level `permissions:`.
	Permissions Permissions
	// Concurrency is the workflow-level `concurrency:` (nil when absent).
	Concurrency *Concurrency
	// Jobs holds the jobs in file order.
	Jobs []*Job

	root *yaml.Node
}

// Job is one entry under `jobs:`.
type Job struct {
	// ID is the job's key under `jobs:`.
	ID string
	// Line is the line of the job's key.
	Line int
	// Name is the job's display `name:`.
	Name string `yaml:"name"`
	// Needs lists the jobs this one waits for.
	Needs StringList `yaml:"needs"`
	// If is the job's condition.
	If string `yaml:"if"`
	// Environment is the GitHub environment the job runs in.
	Environment Environment `yaml:"environment"`
	// Permissions is the job-level `permissions:`.
	Permissions Permissions `yaml:"permissions"`
	// TimeoutMinutes is the raw `timeout-minutes:` value ("" when absent).
	TimeoutMinutes string `yaml:"timeout-minutes"`
	// Uses is set when the job calls a reusable workflow.
	Uses string `yaml:"uses"`
	// Env is the job-level `env:`.
	Env map[string]Scalar `yaml:"env"`
	// Outputs is the job's `outputs:` (name to expression).
	Outputs map[string]Scalar `yaml:"outputs"`
	// Steps are the job's steps in order.
	Steps []*Step `yaml:"steps"`

	node *yaml.Node
}

// Step is one entry of a job's `steps:`.
type Step struct {
	// ID is the step's `id:`.
	ID string `yaml:"id"`
	// Name is the step's `name:`.
	Name string `yaml:"name"`
	// If is the step's condition.
	If string `yaml:"if"`
	// Uses is the action reference, e.g. "actions/checkout@<sha>".
	Uses string `yaml:"uses"`
	// UsesComment is the trailing comment on the `uses:` line without "#",
	// where pinned actions carry their version.
	UsesComment string `yaml:"-"`
	// Run is the shell script of a run step.
	Run string `yaml:"run"`
	// With holds the action inputs.
	With map[string]Scalar `yaml:"with"`
	// Env is the step-level `env:`.
	Env map[string]Scalar `yaml:"env"`
	// Line is the line where the step starts.
	Line int `yaml:"-"`
}

// Label names the step for messages: its name, else its uses or first run line.
func (s *Step) Label() string {
	switch {
	case s.Name != "":
		return s.Name
	case s.Uses != "":
		return s.Uses
	default:
		first, _, _ := strings.Cut(strings.TrimSpace(s.Run), "\n")
		return first
	}
}

// Action is the step's action without its ref ("actions/checkout"), or "".
func (s *Step) Action() string {
	name, _, _ := strings.Cut(s.Uses, "@")
	return name
}

// UnmarshalYAML decodes a step and keeps its line and the comment on `uses:`.
func (s *Step) UnmarshalYAML(n *yaml.Node) error {
	type plain Step
	var p plain
	if err := n.Decode(&p); err != nil {
		return err
	}
	*s = Step(p)
	s.Line = n.Line
	if v := mappingValue(n, "uses"); v != nil {
		s.UsesComment = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v.LineComment), "#"))
	}
	return nil
}

// Permissions is a `permissions:` block: absent, a string such as
// "read-all", or a map of scopes to "read", "write" or "none".
type Permissions struct {
	// Set is true when the block is present.
	Set bool
	// All holds the string form ("read-all", "write-all", "{}"), if used.
	All string
	// Scopes maps a scope ("id-token", "contents") to its access.
	Scopes map[string]string
}

// UnmarshalYAML accepts both forms of `permissions:`.
func (p *Permissions) UnmarshalYAML(n *yaml.Node) error {
	p.Set = true
	switch n.Kind {
	case yaml.ScalarNode:
		p.All = n.Value
		return nil
	case yaml.MappingNode:
		return n.Decode(&p.Scopes)
	default:
		return fmt.Errorf("line %d: permissions must be a string or a map", n.Line)
	}
}

// Environment is a job's `environment:`, given as a name or as {name, url}.
type Environment struct {
	// Name is the environment's name ("" when the job has none).
	Name string
}

// UnmarshalYAML accepts both forms of `environment:`.
func (e *Environment) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		e.Name = n.Value
		return nil
	case yaml.MappingNode:
		var m struct {
			Name string `yaml:"name"`
		}
		if err := n.Decode(&m); err != nil {
			return err
		}
		e.Name = m.Name
		return nil
	default:
		return fmt.Errorf("line %d: environment must be a name or a map", n.Line)
	}
}

// Concurrency is a `concurrency:` block, given as a group name or as a map.
type Concurrency struct {
	// Group is the concurrency group expression.
	Group string `yaml:"group"`
	// CancelInProgress is the raw cancel-in-progress value ("true", an expression, or "").
	CancelInProgress string `yaml:"cancel-in-progress"`
}

// UnmarshalYAML accepts both forms of `concurrency:`.
func (c *Concurrency) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		c.Group = n.Value
		return nil
	}
	type plain Concurrency
	return n.Decode((*plain)(c))
}

// StringList is a YAML value given as one string or a list of strings.
type StringList []string

// UnmarshalYAML accepts a scalar or a sequence.
func (l *StringList) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*l = StringList{n.Value}
		return nil
	}
	var s []string
	if err := n.Decode(&s); err != nil {
		return err
	}
	*l = s
	return nil
}

// Scalar is any YAML scalar (string, bool, number) kept as its text.
type Scalar string

// UnmarshalYAML keeps the scalar's text whatever its type.
func (s *Scalar) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: expected a scalar", n.Line)
	}
	*s = Scalar(n.Value)
	return nil
}

// Parse reads one workflow file's content. name is used in findings.
func Parse(name string, src []byte) (*Workflow, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, fmt.Errorf("parse workflow %s: %w", name, err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("parse workflow %s: not a YAML mapping", name)
	}
	root := doc.Content[0]
	w := &Workflow{File: name, root: root}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		var err error
		switch k.Value {
		case "name":
			w.Name = v.Value
		case "on":
			w.Events, w.EventLines = events(v)
		case "permissions":
			err = v.Decode(&w.Permissions)
		case "concurrency":
			w.Concurrency = &Concurrency{}
			err = v.Decode(w.Concurrency)
		case "jobs":
			err = w.decodeJobs(v)
		}
		if err != nil {
			return nil, fmt.Errorf("parse workflow %s: %s: %w", name, k.Value, err)
		}
	}
	if len(w.Jobs) == 0 {
		return nil, fmt.Errorf("parse workflow %s: no jobs", name)
	}
	return w, nil
}

func (w *Workflow) decodeJobs(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: jobs must be a map", n.Line)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		j := &Job{}
		if err := v.Decode(j); err != nil {
			return fmt.Errorf("job %s: %w", k.Value, err)
		}
		j.ID, j.Line, j.node = k.Value, k.Line, v
		w.Jobs = append(w.Jobs, j)
	}
	return nil
}

// Job returns the job with the given id, or nil.
func (w *Workflow) Job(id string) *Job {
	for _, j := range w.Jobs {
		if j.ID == id {
			return j
		}
	}
	return nil
}

// HasEvent reports whether the workflow triggers on the event.
func (w *Workflow) HasEvent(event string) bool {
	for _, e := range w.Events {
		if e == event {
			return true
		}
	}
	return false
}

// Upstream returns the ids of every job j waits for, directly or not, sorted.
func (w *Workflow) Upstream(j *Job) []string {
	seen := map[string]bool{}
	var walk func(*Job)
	walk = func(j *Job) {
		for _, id := range j.Needs {
			if seen[id] {
				continue
			}
			seen[id] = true
			if n := w.Job(id); n != nil {
				walk(n)
			}
		}
	}
	walk(j)
	ids := make([]string, 0, len(seen))
	for id := range seen {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// LoadDir parses every *.yml and *.yaml file in dir, sorted by name.
func LoadDir(dir string) ([]*Workflow, error) {
	var files []string
	for _, pattern := range []string{"*.yml", "*.yaml"} {
		m, err := filepath.Glob(filepath.Join(dir, pattern))
		if err != nil {
			return nil, fmt.Errorf("list workflows in %s: %w", dir, err)
		}
		files = append(files, m...)
	}
	sort.Strings(files)
	if len(files) == 0 {
		return nil, fmt.Errorf("list workflows in %s: no workflow files", dir)
	}
	var (
		out  []*Workflow
		errs []error
	)
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			errs = append(errs, fmt.Errorf("read workflow %s: %w", f, err))
			continue
		}
		w, err := Parse(filepath.Base(f), src)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, w)
	}
	return out, errors.Join(errs...)
}

func events(n *yaml.Node) ([]string, map[string]int) {
	var names []string
	lines := map[string]int{}
	add := func(e *yaml.Node) {
		names = append(names, e.Value)
		lines[e.Value] = e.Line
	}
	switch n.Kind {
	case yaml.ScalarNode:
		add(n)
	case yaml.SequenceNode:
		for _, c := range n.Content {
			add(c)
		}
	case yaml.MappingNode:
		for i := 0; i < len(n.Content); i += 2 {
			add(n.Content[i])
		}
	}
	return names, lines
}

// mappingValue returns the value node of key in mapping n, or nil.
func mappingValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}
