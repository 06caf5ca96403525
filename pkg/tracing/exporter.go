package tracing

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// ExporterOptions configures NewExporter.
type ExporterOptions struct {
	// ServiceName, when set, names every segment (AWS_XRAY_TRACING_NAME).
	ServiceName string
	// Log receives the exporter's own problems (the first emit failure).
	// Default: a line on stderr.
	Log func(msg string)

	close func() error
}

// Exporter is an OpenTelemetry SpanExporter that writes each span as an
// X-Ray segment document
// (https://docs.aws.amazon.com/xray/latest/devguide/xray-api-segmentdocuments.html)
// through an Emitter — in Lambda, over UDP to the X-Ray daemon at
// AWS_XRAY_DAEMON_ADDRESS that active tracing provides. A service entry (a
// span with no parent, or a server or consumer span whose parent is remote)
// becomes a segment; every other span an independent subsegment ("type":
// "subsegment", with its trace and parent). AWS SDK calls get namespace
// "aws", other outgoing HTTP calls "remote"; the fields X-Ray's service map
// and trace views read (http, aws, error/fault/throttle, cause, origin,
// annotations, metadata) are filled from the span's attributes and events.
// Links go to metadata "otel" → "links".
type Exporter struct {
	emitter Emitter
	service string
	log     func(string)
	close   func() error
	errs    atomic.Int64
	pool    sync.Pool
	stopped atomic.Bool
}

// NewExporter returns an X-Ray exporter sending through e.
func NewExporter(e Emitter, o ExporterOptions) *Exporter {
	x := &Exporter{emitter: e, service: o.ServiceName, log: o.Log, close: o.close}
	if x.log == nil {
		x.log = func(msg string) { fmt.Fprintln(os.Stderr, "tracing:", msg) }
	}
	x.pool.New = func() any { b := make([]byte, 0, 2048); return &b }
	return x
}

// ExportSpans implements sdktrace.SpanExporter. A failed send is counted
// (EmitErrors) and the first one logged; it is not returned, so the SDK does
// not log every lost datagram.
func (x *Exporter) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	if x.stopped.Load() {
		return nil
	}
	bp := x.pool.Get().(*[]byte)
	b := *bp
	for _, s := range spans {
		b = appendDocument(b[:0], s, x.service)
		if len(b) > maxDocumentBytes {
			b = appendDocument(b[:0], trimmed{s}, x.service)
		}
		if err := x.emitter.Emit(b); err != nil {
			if x.errs.Add(1) == 1 {
				x.log(fmt.Sprintf("sending segment %s of trace %s: %v (further failures are counted, not logged)",
					s.SpanContext().SpanID(), xrayTraceID(s.SpanContext().TraceID()), err))
			}
		}
	}
	*bp = b
	if cap(b) <= 64<<10 {
		x.pool.Put(bp)
	}
	return nil
}

// Shutdown implements sdktrace.SpanExporter: it closes the emitter the
// provider created.
func (x *Exporter) Shutdown(context.Context) error {
	if x.stopped.Swap(true) || x.close == nil {
		return nil
	}
	return x.close()
}

// EmitErrors returns how many documents the emitter failed to send.
func (x *Exporter) EmitErrors() int64 { return x.errs.Load() }

// maxDocumentBytes keeps a document (plus the daemon header) within one UDP
// datagram the daemon accepts (64 KiB).
const maxDocumentBytes = 62 << 10
