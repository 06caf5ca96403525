package testenv

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"
)

// Fault is a failure the emulator injects into matching AWS calls (see
// scripts/moto_launcher.py): an error answered in the service's protocol, or
// the real answer held back after the work is done.
type Fault struct {
	// Service is the SigV4 signing name: "dynamodb", "sqs", "sns", …
	Service string `json:"service"`
	// Operation is the API action, e.g. "PutItem", "Publish".
	Operation string `json:"operation"`
	// Match, when set, must occur in the raw request body.
	Match string `json:"match,omitempty"`
	// Also are further substrings that must all occur in the body too.
	Also []string `json:"also,omitempty"`
	// Count is how many matching calls it applies to (0 means 1; -1 every one).
	Count int `json:"count,omitempty"`
	// Error answers the call without doing it.
	Error *FaultError `json:"error,omitempty"`
	// DelaySeconds holds an Error back that long: a call that hangs, then fails.
	DelaySeconds float64 `json:"delay_seconds,omitempty"`
	// DelayAfterSeconds does the call, then holds the answer back.
	DelayAfterSeconds float64 `json:"delay_after_seconds,omitempty"`
	// After, with Error, does the call first and answers Error instead of
	// the real answer: a write that committed but whose answer was lost.
	After bool `json:"after,omitempty"`

	// ID and Fired are set by the emulator.
	ID    string `json:"id,omitempty"`
	Fired int    `json:"fired,omitempty"`
}

// FaultError is the error a Fault answers with.
type FaultError struct {
	Status  int    `json:"status"`
	Code    string `json:"code"`
	Message string `json:"message,omitempty"`
}

// FaultClient arms, lists and disarms the faults of the emulator at Endpoint
// (scripts/moto_launcher.py's /_offload/faults). Timeout, when set, bounds each
// call (the chaos campaign's); tests use the functions below, which set none.
type FaultClient struct {
	Endpoint string
	Timeout  time.Duration
}

// do sends one request; its cancel func releases the call's timeout once the
// answer has been read.
func (c FaultClient) do(ctx context.Context, method, path string, body io.Reader) (*http.Response, context.CancelFunc, error) {
	cancel := context.CancelFunc(func() {})
	if c.Timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, c.Timeout)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.Endpoint+"/_offload/faults"+path, body)
	if err != nil {
		cancel()
		return nil, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		return nil, nil, err
	}
	return resp, cancel, nil
}

// Inject arms f (a Count of 0 means 1) and returns it with its id.
func (c FaultClient) Inject(ctx context.Context, f Fault) (Fault, error) {
	if f.Count == 0 {
		f.Count = 1
	}
	b, err := json.Marshal(f)
	if err != nil {
		return Fault{}, err
	}
	resp, cancel, err := c.do(ctx, http.MethodPost, "", bytes.NewReader(b))
	if err != nil {
		return Fault{}, fmt.Errorf("inject fault: %w", err)
	}
	defer cancel()
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return Fault{}, fmt.Errorf("inject fault: emulator answered %s (is it started by scripts/moto_launcher.py?)", resp.Status)
	}
	var out Fault
	return out, json.NewDecoder(resp.Body).Decode(&out)
}

// List returns the armed faults with how often each fired.
func (c FaultClient) List(ctx context.Context) ([]Fault, error) {
	resp, cancel, err := c.do(ctx, http.MethodGet, "", nil)
	if err != nil {
		return nil, fmt.Errorf("list faults: %w", err)
	}
	defer cancel()
	defer resp.Body.Close()
	var out []Fault
	return out, json.NewDecoder(resp.Body).Decode(&out)
}

// Remove disarms the fault with id.
func (c FaultClient) Remove(ctx context.Context, id string) error {
	resp, cancel, err := c.do(ctx, http.MethodDelete, "/"+id, nil)
	if err != nil {
		return fmt.Errorf("remove fault: %w", err)
	}
	defer cancel()
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("remove fault %s: %s", id, resp.Status)
	}
	return nil
}

// Clear disarms every fault.
func (c FaultClient) Clear(ctx context.Context) error {
	resp, cancel, err := c.do(ctx, http.MethodDelete, "", nil)
	if err != nil {
		return fmt.Errorf("clear faults: %w", err)
	}
	defer cancel()
	return resp.Body.Close()
}

// InjectFault arms f in the emulator at endpoint and returns it with its id.
func InjectFault(endpoint string, f Fault) (Fault, error) {
	return FaultClient{Endpoint: endpoint}.Inject(context.Background(), f)
}

// Faults lists the armed faults with how often each fired.
func Faults(endpoint string) ([]Fault, error) {
	return FaultClient{Endpoint: endpoint}.List(context.Background())
}

// Fired returns how often the fault with id fired.
func Fired(endpoint, id string) (int, error) {
	all, err := Faults(endpoint)
	if err != nil {
		return 0, err
	}
	for _, f := range all {
		if f.ID == id {
			return f.Fired, nil
		}
	}
	return 0, fmt.Errorf("no fault %s", id)
}

// RemoveFault disarms the fault with id.
func RemoveFault(endpoint, id string) error {
	return FaultClient{Endpoint: endpoint}.Remove(context.Background(), id)
}

// MustInjectFault is InjectFault failing the test on error.
func MustInjectFault(t testing.TB, f Fault) Fault {
	t.Helper()
	out, err := InjectFault(Endpoint(t), f)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
