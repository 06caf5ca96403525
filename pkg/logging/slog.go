package logging

import (
	"context"
	"io"
	"log/slog"
	"sync"

	"github.com/sirupsen/logrus"
)

// NewSlogHandler returns a log/slog handler that writes what the functions'
// logger writes: one JSON line per record through Formatter, so with the
// same field layout and the same masking of phone numbers and secrets
// (MaskingFormatter). Binaries that log with slog (cmd/example-service,
// cmd/offload-local, a service of yours) use it instead of slog's own JSON or
// text handler. Attributes in groups are written as "group.key". A nil level
// means info.
func NewSlogHandler(w io.Writer, level slog.Leveler) slog.Handler {
	if level == nil {
		level = slog.LevelInfo
	}
	return &slogHandler{out: w, mu: &sync.Mutex{}, level: level}
}

type slogHandler struct {
	out    io.Writer
	mu     *sync.Mutex // one per output, shared by the handlers WithAttrs derives
	level  slog.Leveler
	attrs  logrus.Fields
	prefix string // the open groups, "a.b."
}

func (h *slogHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level.Level() }

func (h *slogHandler) Handle(ctx context.Context, r slog.Record) error {
	data := make(logrus.Fields, len(h.attrs)+r.NumAttrs())
	for k, v := range h.attrs {
		data[k] = v
	}
	r.Attrs(func(a slog.Attr) bool {
		addAttr(data, h.prefix, a)
		return true
	})
	e := &logrus.Entry{Data: data, Time: r.Time, Level: logrusLevel(r.Level), Message: r.Message, Context: ctx}
	line, err := (&Formatter{}).Format(e)
	if err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err = h.out.Write(line)
	return err
}

func (h *slogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.attrs = make(logrus.Fields, len(h.attrs)+len(attrs))
	for k, v := range h.attrs {
		c.attrs[k] = v
	}
	for _, a := range attrs {
		addAttr(c.attrs, h.prefix, a)
	}
	return &c
}

func (h *slogHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	c := *h
	c.prefix = h.prefix + name + "."
	return &c
}

// addAttr adds a to data under prefix, flattening groups; values become
// what Formatter masks and encodes (strings, errors, numbers, times).
func addAttr(data logrus.Fields, prefix string, a slog.Attr) {
	v := a.Value.Resolve()
	if v.Kind() == slog.KindGroup {
		p := prefix
		if a.Key != "" {
			p += a.Key + "."
		}
		for _, g := range v.Group() {
			addAttr(data, p, g)
		}
		return
	}
	if a.Key == "" {
		return
	}
	switch v.Kind() {
	case slog.KindDuration:
		data[prefix+a.Key] = v.Duration().String()
	default:
		data[prefix+a.Key] = v.Any()
	}
}

func logrusLevel(l slog.Level) logrus.Level {
	switch {
	case l >= slog.LevelError:
		return logrus.ErrorLevel
	case l >= slog.LevelWarn:
		return logrus.WarnLevel
	case l >= slog.LevelInfo:
		return logrus.InfoLevel
	case l >= slog.LevelDebug:
		return logrus.DebugLevel
	}
	return logrus.TraceLevel
}
