package observability

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
)

// TracerName is the instrumentation scope of the hub's own spans.
const TracerName = "github.com/flink-hub/flink-hub"

// TracingOptions configure Setup. Empty fields fall back to the standard
// OTEL_* environment variables, which the exporters and sampler read.
type TracingOptions struct {
	// Endpoint overrides OTEL_EXPORTER_OTLP_ENDPOINT (e.g.
	// "http://localhost:4318"). Tracing is off when neither is set.
	Endpoint string
	// Protocol overrides OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" or
	// "http/protobuf" (the default, as the specification says).
	Protocol string
	// Sampler overrides OTEL_TRACES_SAMPLER with "always_on", "always_off",
	// "traceidratio" or "parentbased_traceidratio" (with SamplerArg).
	Sampler string
	// SamplerArg is the ratio for the ratio samplers.
	SamplerArg float64
	// ServiceVersion is recorded as service.version.
	ServiceVersion string
	// Replica is recorded as service.instance.id.
	Replica string
	// ExportTimeout bounds one export; a dead endpoint costs at most this
	// much of the exporter's goroutine, never a reconcile's.
	ExportTimeout time.Duration
	// QueueSize is the span queue; spans beyond it are dropped and counted.
	QueueSize int
}

// BindFlags registers the --otel-* flags on fs.
func (o *TracingOptions) BindFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.Endpoint, "otel-endpoint", "", "OTLP endpoint for traces (default $OTEL_EXPORTER_OTLP_ENDPOINT; tracing is off when neither is set)")
	fs.StringVar(&o.Protocol, "otel-protocol", "", "OTLP protocol, grpc or http/protobuf (default $OTEL_EXPORTER_OTLP_PROTOCOL, else http/protobuf)")
	fs.StringVar(&o.Sampler, "otel-sampler", "", "trace sampler: always_on, always_off, traceidratio, parentbased_traceidratio (default $OTEL_TRACES_SAMPLER)")
	fs.Float64Var(&o.SamplerArg, "otel-sampler-arg", 1, "ratio of the ratio samplers")
}

// Validate checks the sampler and the protocol named by flags.
func (o *TracingOptions) Validate() error {
	var problems []error
	if o.Sampler != "" {
		if _, err := samplerFor(o.Sampler, o.SamplerArg); err != nil {
			problems = append(problems, fmt.Errorf("--otel-sampler: %w", err))
		}
	}
	switch o.Protocol {
	case "", "grpc", "http/protobuf":
	default:
		problems = append(problems, fmt.Errorf("--otel-protocol %q: want grpc or http/protobuf", o.Protocol))
	}
	return errors.Join(problems...)
}

// Tracing is the hub's tracer provider. Shutdown flushes pending spans.
type Tracing struct {
	// Provider is the tracer provider, a no-op one when tracing is off.
	Provider trace.TracerProvider
	// Enabled reports whether spans are exported.
	Enabled  bool
	shutdown func(context.Context) error
}

// Shutdown flushes and stops the exporter.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if t == nil || t.shutdown == nil {
		return nil
	}
	return t.shutdown(ctx)
}

// SetupTracing builds the tracer provider, installs it and the W3C trace
// context propagator globally, and returns it. With no endpoint configured,
// or OTEL_SDK_DISABLED=true, it installs a no-op provider that costs nothing.
func SetupTracing(ctx context.Context, opts TracingOptions) (*Tracing, error) {
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	// Export failures are counted in flinkhub_trace_spans_dropped_total;
	// log them only at debug level so a dead collector cannot flood logs.
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		ctrllog.Log.WithName("otel").V(1).Info("telemetry error", "error", err.Error())
	}))
	endpoint := firstNonEmpty(opts.Endpoint, os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"), os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT"))
	if endpoint == "" || strings.EqualFold(os.Getenv("OTEL_SDK_DISABLED"), "true") {
		tp := noop.NewTracerProvider()
		otel.SetTracerProvider(tp)
		return &Tracing{Provider: tp}, nil
	}
	if opts.ExportTimeout == 0 {
		opts.ExportTimeout = 10 * time.Second
	}
	if opts.QueueSize == 0 {
		opts.QueueSize = sdktrace.DefaultMaxQueueSize
	}
	exporter, err := newExporter(ctx, opts, endpoint)
	if err != nil {
		return nil, err
	}
	res, err := resource.New(ctx,
		resource.WithFromEnv(),
		resource.WithTelemetrySDK(),
		resource.WithAttributes(serviceAttributes(opts)...),
	)
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		return nil, fmt.Errorf("tracing resource: %w", err)
	}
	tpOpts := []sdktrace.TracerProviderOption{
		sdktrace.WithResource(res),
		sdktrace.WithBatcher(&countingExporter{SpanExporter: exporter},
			sdktrace.WithMaxQueueSize(opts.QueueSize),
			sdktrace.WithExportTimeout(opts.ExportTimeout)),
	}
	if opts.Sampler != "" {
		sampler, err := samplerFor(opts.Sampler, opts.SamplerArg)
		if err != nil {
			return nil, err
		}
		tpOpts = append(tpOpts, sdktrace.WithSampler(sampler))
	}
	tp := sdktrace.NewTracerProvider(tpOpts...)
	otel.SetTracerProvider(tp)
	return &Tracing{Provider: tp, Enabled: true, shutdown: tp.Shutdown}, nil
}

func serviceAttributes(opts TracingOptions) []attribute.KeyValue {
	attrs := []attribute.KeyValue{}
	if os.Getenv("OTEL_SERVICE_NAME") == "" && !strings.Contains(os.Getenv("OTEL_RESOURCE_ATTRIBUTES"), "service.name=") {
		attrs = append(attrs, attribute.String("service.name", "flink-hub"))
	}
	if opts.ServiceVersion != "" {
		attrs = append(attrs, attribute.String("service.version", opts.ServiceVersion))
	}
	if opts.Replica != "" {
		attrs = append(attrs, attribute.String("service.instance.id", opts.Replica))
	}
	return attrs
}

func newExporter(ctx context.Context, opts TracingOptions, endpoint string) (sdktrace.SpanExporter, error) {
	protocol := firstNonEmpty(opts.Protocol, os.Getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"), os.Getenv("OTEL_EXPORTER_OTLP_PROTOCOL"), "http/protobuf")
	switch protocol {
	case "grpc":
		o := []otlptracegrpc.Option{otlptracegrpc.WithTimeout(opts.ExportTimeout)}
		if opts.Endpoint != "" {
			o = append(o, otlptracegrpc.WithEndpointURL(opts.Endpoint))
		}
		return otlptracegrpc.New(ctx, o...)
	case "http/protobuf":
		o := []otlptracehttp.Option{otlptracehttp.WithTimeout(opts.ExportTimeout)}
		if opts.Endpoint != "" {
			o = append(o, otlptracehttp.WithEndpointURL(opts.Endpoint))
		}
		return otlptracehttp.New(ctx, o...)
	default:
		return nil, fmt.Errorf("OTLP protocol %q is not supported: use grpc or http/protobuf", protocol)
	}
}

func samplerFor(name string, arg float64) (sdktrace.Sampler, error) {
	switch name {
	case "always_on":
		return sdktrace.AlwaysSample(), nil
	case "always_off":
		return sdktrace.NeverSample(), nil
	case "traceidratio":
		return sdktrace.TraceIDRatioBased(arg), nil
	case "parentbased_always_on":
		return sdktrace.ParentBased(sdktrace.AlwaysSample()), nil
	case "parentbased_traceidratio":
		return sdktrace.ParentBased(sdktrace.TraceIDRatioBased(arg)), nil
	default:
		return nil, fmt.Errorf("trace sampler %q is not supported", name)
	}
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// Tracer returns the hub's tracer from the global provider.
func Tracer() trace.Tracer { return otel.Tracer(TracerName) }
