package flinkrest_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/flink-hub/flink-hub/e2e/flinksim/jobmanager"
	"github.com/flink-hub/flink-hub/internal/flinkrest"
)

// TestCallsAreChildSpans checks that every Flink call is a client span of
// the caller's span, named after the operation, without credentials.
func TestCallsAreChildSpans(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	prev := otel.GetTracerProvider()
	otel.SetTracerProvider(tp)
	t.Cleanup(func() { otel.SetTracerProvider(prev); _ = tp.Shutdown(context.Background()) })

	jm := jobmanager.New(jobmanager.Config{ClusterID: "traced"})
	srv := httptest.NewServer(jm.Handler())
	t.Cleanup(func() { srv.Close(); jm.Stop() })
	base := strings.Replace(srv.URL, "http://", "http://admin:hunter2@", 1)
	c, err := flinkrest.New(flinkrest.Endpoint{BaseURL: base})
	if err != nil {
		t.Fatal(err)
	}
	ctx, parent := tp.Tracer("test").Start(context.Background(), "Reconcile FlinkDeployment")
	if _, err := c.Config(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.JobDetails(ctx, "ffffffffffffffffffffffffffffffff"); !flinkrest.IsNotFound(err) {
		t.Fatalf("unknown job: %v", err)
	}
	parent.End()

	var names []string
	for _, s := range rec.Ended() {
		if s.Name() == "Reconcile FlinkDeployment" {
			continue
		}
		names = append(names, s.Name())
		if s.Parent().SpanID() != parent.SpanContext().SpanID() {
			t.Errorf("span %q is not a child of the reconcile span", s.Name())
		}
		for _, a := range s.Attributes() {
			if strings.Contains(a.Value.String(), "hunter2") {
				t.Errorf("span %q attribute %s shows the password", s.Name(), a.Key)
			}
		}
	}
	if strings.Join(names, ",") != "flink GET /config,flink GET /jobs/{jobid}" {
		t.Fatalf("spans %v", names)
	}
}
