package observability

import (
	"context"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// countingExporter counts spans an export could not deliver, so an
// unreachable collector shows up in metrics instead of in reconcile latency.
type countingExporter struct {
	sdktrace.SpanExporter
}

func (e *countingExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	err := e.SpanExporter.ExportSpans(ctx, spans)
	if err != nil {
		spansDropped.Add(float64(len(spans)))
	} else {
		spansExported.Add(float64(len(spans)))
	}
	return err
}
