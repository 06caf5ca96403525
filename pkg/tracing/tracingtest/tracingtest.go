package tracingtest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	xraytypes "github.com/aws/aws-sdk-go-v2/service/xray/types"
	"github.com/aws/aws-xray-sdk-go/v2/strategy/sampling"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/offload/offload/pkg/tracing"
)

// The trace a producer hands on with a message, for tests of the code that
// continues it.
const (
	// ProducerTrace is the producer's X-Ray trace id.
	ProducerTrace = "1-5759e988-bd862e3fe1be46a994272793"
	// ProducerSend is the span id of the producer's send: the parent of the
	// consumer's segment.
	ProducerSend = "53995c3f42cd8ad8"
	// ProducerHeader is the two, sampled, as an X-Amzn-Trace-Id header or
	// an AWSTraceHeader attribute carries them.
	ProducerHeader = "Root=" + ProducerTrace + ";Parent=" + ProducerSend + ";Sampled=1"
)

// Document is an X-Ray segment document as pkg/tracing's exporter writes it.
type Document struct {
	Name        string                    `json:"name"`
	ID          string                    `json:"id"`
	TraceID     string                    `json:"trace_id"`
	ParentID    string                    `json:"parent_id"`
	Type        string                    `json:"type"`
	Origin      string                    `json:"origin"`
	Namespace   string                    `json:"namespace"`
	StartTime   float64                   `json:"start_time"`
	EndTime     float64                   `json:"end_time"`
	InProgress  bool                      `json:"in_progress"`
	Error       bool                      `json:"error"`
	Fault       bool                      `json:"fault"`
	Throttle    bool                      `json:"throttle"`
	Cause       *Cause                    `json:"cause"`
	HTTP        *HTTP                     `json:"http"`
	AWS         map[string]any            `json:"aws"`
	Annotations map[string]any            `json:"annotations"`
	Metadata    map[string]map[string]any `json:"metadata"`
	Subsegments []Document                `json:"subsegments"`
}

// Cause is a document's cause.
type Cause struct {
	Exceptions []struct {
		ID      string `json:"id"`
		Message string `json:"message"`
		Type    string `json:"type"`
		Remote  bool   `json:"remote"`
	} `json:"exceptions"`
}

// HTTP is a document's http block.
type HTTP struct {
	Request *struct {
		Method        string `json:"method"`
		URL           string `json:"url"`
		ClientIP      string `json:"client_ip"`
		UserAgent     string `json:"user_agent"`
		XForwardedFor bool   `json:"x_forwarded_for"`
	} `json:"request"`
	Response *struct {
		Status        int   `json:"status"`
		ContentLength int64 `json:"content_length"`
	} `json:"response"`
}

// Parse decodes one document.
func Parse(doc []byte) (Document, error) {
	var d Document
	if err := json.Unmarshal(doc, &d); err != nil {
		return d, fmt.Errorf("parse segment document: %w", err)
	}
	return d, nil
}

// Flatten returns docs and every subsegment nested in them, depth first, with
// the nested ones' TraceID and ParentID filled in from their position.
func Flatten(docs ...Document) []Document {
	var out []Document
	var walk func(d Document)
	walk = func(d Document) {
		subs := d.Subsegments
		d.Subsegments = nil
		out = append(out, d)
		for _, s := range subs {
			if s.TraceID == "" {
				s.TraceID = d.TraceID
			}
			if s.ParentID == "" {
				s.ParentID = d.ID
			}
			walk(s)
		}
	}
	for _, d := range docs {
		walk(d)
	}
	return out
}

// ParseTraces parses every segment document of traces (what X-Ray's
// BatchGetTraces answers) and returns them flattened as Flatten does.
func ParseTraces(traces []xraytypes.Trace) ([]Document, error) {
	var docs []Document
	for _, tr := range traces {
		for _, seg := range tr.Segments {
			d, err := Parse([]byte(aws.ToString(seg.Document)))
			if err != nil {
				return nil, err
			}
			docs = append(docs, d)
		}
	}
	return Flatten(docs...), nil
}

// Recorder is a tracing.Emitter keeping every document. Safe for concurrent
// use.
type Recorder struct {
	mu   sync.Mutex
	docs [][]byte
}

// Emit implements tracing.Emitter.
func (r *Recorder) Emit(doc []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.docs = append(r.docs, append([]byte(nil), doc...))
	return nil
}

// Raw returns the documents as sent.
func (r *Recorder) Raw() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]byte(nil), r.docs...)
}

// Documents returns the documents decoded, in the order sent; a document
// that is not valid JSON fails t.
func (r *Recorder) Documents(t testing.TB) []Document {
	t.Helper()
	raw := r.Raw()
	out := make([]Document, 0, len(raw))
	for _, b := range raw {
		d, err := Parse(b)
		if err != nil {
			t.Fatalf("%v: %s", err, b)
		}
		out = append(out, d)
	}
	return out
}

// Always samples every new trace.
type Always struct{}

// ShouldTrace implements sampling.Strategy.
func (Always) ShouldTrace(*sampling.Request) *sampling.Decision {
	return &sampling.Decision{Sample: true}
}

// NewProvider returns a tracer provider that samples every new trace and
// whose X-Ray exporter sends its documents, as each span ends, to the
// returned Recorder. It is closed when t ends. Each test gets its own: tests
// using it can run in parallel. Each of opts, in order, may change the
// configuration after that (another Sampling, a ContextMissing strategy).
func NewProvider(t testing.TB, opts ...func(*tracing.Config)) (*tracing.Provider, *Recorder) {
	t.Helper()
	rec := &Recorder{}
	cfg := tracing.Config{Emitter: rec, Sampling: Always{}}
	for _, o := range opts {
		o(&cfg)
	}
	p, err := tracing.NewProvider(cfg)
	if err != nil {
		t.Fatalf("tracingtest: %v", err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p, rec
}

// New is NewProvider with offload's Tracer over the provider.
func New(t testing.TB) (tracing.Tracer, *Recorder) {
	t.Helper()
	p, rec := NewProvider(t)
	return tracing.NewTracer(p), rec
}

// LenientTraceSummaries is an X-Ray client API option for GetTraceSummaries
// against the local emulator (moto 5.2.1), whose answer the SDK cannot
// decode: each summary's "Users" is an object ({}) where the API has a list.
// It rewrites that field before the SDK's deserializer reads the body and, when
// raw is not nil, keeps the answer as received in *raw. Use it as
// func(o *xray.Options) { o.APIOptions = append(o.APIOptions, LenientTraceSummaries(nil)) }.
func LenientTraceSummaries(raw *string) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		return stack.Deserialize.Add(middleware.DeserializeMiddlewareFunc("LenientTraceSummaries", func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (
			middleware.DeserializeOutput, middleware.Metadata, error,
		) {
			out, md, err := next.HandleDeserialize(ctx, in)
			if resp, ok := out.RawResponse.(*smithyhttp.Response); ok && err == nil {
				b, rerr := io.ReadAll(resp.Body)
				if rerr != nil {
					return out, md, rerr
				}
				if raw != nil {
					*raw = string(b)
				}
				resp.Body = io.NopCloser(strings.NewReader(strings.ReplaceAll(string(b), `"Users": {}`, `"Users": []`)))
			}
			return out, md, err
		}), middleware.After)
	}
}

// Link is a span link as the exporter writes it (metadata "otel" → "links").
type Link struct {
	TraceID string `json:"trace_id"`
	ID      string `json:"id"`
}

// Links returns the document's span links, in order.
func (d Document) Links() []Link {
	raw, ok := d.Metadata["otel"]["links"].([]any)
	if !ok {
		return nil
	}
	out := make([]Link, 0, len(raw))
	for _, r := range raw {
		m, _ := r.(map[string]any)
		tid, _ := m["trace_id"].(string)
		id, _ := m["id"].(string)
		out = append(out, Link{TraceID: tid, ID: id})
	}
	return out
}
