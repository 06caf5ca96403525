package localrt

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"sync"
	"time"
)

// logSink serialises whole lines from every environment onto one writer, so
// lines of concurrent processes never interleave mid-line.
type logSink struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *logSink) line(prefix, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, _ = io.WriteString(s.w, prefix+text+"\n")
}

// lineWriter is an io.Writer that forwards complete lines to a logSink with a
// prefix. A process's stdout and stderr each get one.
type lineWriter struct {
	sink   *logSink
	prefix string
	mu     sync.Mutex
	buf    []byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.sink.line(w.prefix, string(bytes.TrimRight(w.buf[:i], "\r")))
		w.buf = w.buf[i+1:]
	}
	// A runaway line without newline is flushed at 256 KiB (Lambda splits too).
	if len(w.buf) > 256<<10 {
		w.sink.line(w.prefix, string(w.buf))
		w.buf = w.buf[:0]
	}
	return len(p), nil
}

// flush writes a trailing partial line, if any.
func (w *lineWriter) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		w.sink.line(w.prefix, string(w.buf))
		w.buf = w.buf[:0]
	}
}

// reportLine formats Lambda's REPORT line. Billed Duration is rounded up to
// the millisecond and, as for custom runtimes, includes the init duration of
// a cold start. maxMemMB < 0 omits Max Memory Used.
func reportLine(requestID string, duration, initDuration time.Duration, memoryMB int32, maxMemMB int, status string) string {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	billed := int64(math.Ceil(ms(duration + initDuration)))
	if billed < 1 {
		billed = 1
	}
	s := fmt.Sprintf("REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %d ms\tMemory Size: %d MB",
		requestID, ms(duration), billed, memoryMB)
	if maxMemMB >= 0 {
		s += fmt.Sprintf("\tMax Memory Used: %d MB", maxMemMB)
	}
	if initDuration > 0 {
		s += fmt.Sprintf("\tInit Duration: %.2f ms", ms(initDuration))
	}
	if status != "" {
		s += "\tStatus: " + status
	}
	return s
}
