// Package otlp exports offload's traces with OTLP over HTTP (protobuf), for
// services outside Lambda: to an ADOT or OpenTelemetry collector, or to
// X-Ray's OTLP endpoint through one (https://xray.<region>.amazonaws.com/v1/traces
// needs SigV4, which the collector signs).
//
// It is a package of its own so that Lambda functions never link it: the
// OTLP exporter brings protobuf and gRPC's status types, about 2.8 MB of
// zipped bootstrap, past the functions' 4 MiB budget. Functions use
// pkg/tracing's X-Ray exporter (UDP to the daemon Lambda provides).
package otlp

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"

	"github.com/offload/offload/pkg/tracing"
)

// NewProvider returns a tracing.Provider exporting with OTLP/HTTP: cfg as
// for tracing.NewProvider (sampling, context-missing, service name), with
// the exporter configured by opts and by the standard environment
// (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
// OTEL_EXPORTER_OTLP_HEADERS, …). Close the provider at shutdown: it flushes.
func NewProvider(ctx context.Context, cfg tracing.Config, opts ...otlptracehttp.Option) (*tracing.Provider, error) {
	exp, err := otlptracehttp.New(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("otlp exporter: %w", err)
	}
	cfg.Exporter = exp
	p, err := tracing.NewProvider(cfg)
	if err != nil {
		_ = exp.Shutdown(ctx)
		return nil, err
	}
	return p, nil
}
