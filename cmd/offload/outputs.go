package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
)

// outputs are an environment's Terraform outputs, flattened to strings.
type outputs map[string]string

// loadOutputs reads `terraform output -json` ({"name": {"value": …}}) or a
// flat {"name": "value"} object.
func loadOutputs(path string) (outputs, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read outputs %s: %w (run `make run`, or pass --outputs / OFFLOAD_OUTPUTS_FILE)", path, err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("outputs %s is not a JSON object: %w", path, err)
	}
	out := outputs{}
	for k, v := range raw {
		var wrapped struct {
			Value json.RawMessage `json:"value"`
		}
		if json.Unmarshal(v, &wrapped) == nil && wrapped.Value != nil {
			v = wrapped.Value
		}
		var s string
		if json.Unmarshal(v, &s) == nil {
			out[k] = s
			continue
		}
		out[k] = string(v) // maps and lists stay JSON
	}
	return out, nil
}

// need returns an output or an error naming what is missing.
func (o outputs) need(key string) (string, error) {
	v, ok := o[key]
	if !ok || v == "" {
		return "", fmt.Errorf("the environment's outputs have no %q", key)
	}
	return v, nil
}

// pipelines lists the names usable as <queue> (audit, sms, …): every X with an X_dlq_url output.
func (o outputs) pipelines() []string {
	var names []string
	for k := range o {
		if name, ok := strings.CutSuffix(k, "_dlq_url"); ok {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}
