// Package metrics writes CloudWatch metrics as Embedded Metric Format (EMF)
// log lines. In Lambda, CloudWatch Logs turns each line into metric data
// points: no PutMetricData call, no IAM permission, no latency on the record's
// path.
//
// A Recorder is built once per container and is safe for concurrent use.
package metrics

import (
	"encoding/json"
	"io"
	"os"
	"sync"
	"time"
)

// Unit is a CloudWatch metric unit.
type Unit string

// Units offload uses.
const (
	Count        Unit = "Count"
	Milliseconds Unit = "Milliseconds"
)

// Recorder writes EMF lines under one namespace and a fixed set of dimensions.
type Recorder struct {
	namespace  string
	dimensions map[string]string
	dimNames   []string
	now        func() time.Time

	mu sync.Mutex
	w  io.Writer
}

// New returns a Recorder writing to w (os.Stdout when nil) in namespace, with
// dimensions attached to every metric (e.g. {"Function": "audit-receiver"}).
func New(w io.Writer, namespace string, dimensions map[string]string) *Recorder {
	if w == nil {
		w = os.Stdout
	}
	r := &Recorder{namespace: namespace, dimensions: map[string]string{}, now: time.Now, w: w}
	for k, v := range dimensions {
		r.dimensions[k] = v
		r.dimNames = append(r.dimNames, k)
	}
	return r
}

type metricDef struct {
	Name string `json:"Name"`
	Unit Unit   `json:"Unit"`
}

type directive struct {
	Namespace  string      `json:"Namespace"`
	Dimensions [][]string  `json:"Dimensions"`
	Metrics    []metricDef `json:"Metrics"`
}

// Put records one value of the metric name.
func (r *Recorder) Put(name string, value float64, unit Unit) {
	line := make(map[string]any, len(r.dimensions)+2)
	for k, v := range r.dimensions {
		line[k] = v
	}
	line[name] = value
	line["_aws"] = map[string]any{
		"Timestamp": r.now().UnixMilli(),
		"CloudWatchMetrics": []directive{{
			Namespace: r.namespace, Dimensions: [][]string{r.dimNames}, Metrics: []metricDef{{Name: name, Unit: unit}},
		}},
	}
	b, err := json.Marshal(line)
	if err != nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	_, _ = r.w.Write(append(b, '\n'))
}

// Count records n occurrences of name.
func (r *Recorder) Count(name string, n int) { r.Put(name, float64(n), Count) }
