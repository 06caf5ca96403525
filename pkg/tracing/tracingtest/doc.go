// Package tracingtest helps tests assert what pkg/tracing records: a
// Recorder (a tracing.Emitter keeping every document), an X-Ray tracer
// wired to it, and Document, the X-Ray segment document decoded — the same
// type reads documents back from the X-Ray API (ParseTraces of a
// BatchGetTraces answer).
package tracingtest
