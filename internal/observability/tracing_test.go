package observability_test

import (
	"bytes"
	"context"
	"errors"
	"github.com/flink-hub/flink-hub/internal/observability/traceattr"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	mcreconcile "sigs.k8s.io/multicluster-runtime/pkg/reconcile"

	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/observability"
	"github.com/flink-hub/flink-hub/internal/observability/jaegerquery"
	"github.com/flink-hub/flink-hub/internal/observability/tracecmd"
)

// fakeReconcile stands in for the FlinkDeployment reconciler: it annotates
// the root span, runs an "observe" phase that reads from the member
// apiserver, and returns what it was told to.
func fakeReconcile(c client.Client, result reconcile.Result, fail error) reconcile.TypedFunc[mcreconcile.Request] {
	return func(ctx context.Context, req mcreconcile.Request) (reconcile.Result, error) {
		observability.AnnotateReconcile(ctx, traceattr.Generation.Int64(3))
		ctx, end := observability.StartPhase(ctx, "observe")
		var cm corev1.ConfigMap
		err := c.Get(ctx, types.NamespacedName{Namespace: req.Namespace, Name: "flink-config-" + req.Name}, &cm)
		if apierrors.IsNotFound(err) {
			err = nil
		}
		end(err)
		log.FromContext(ctx).Info("observed", "name", req.Name)
		if err != nil {
			return reconcile.Result{}, err
		}
		return result, fail
	}
}

func TestReconcileTraceReachesJaeger(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	tracing, err := observability.SetupTracing(ctx, observability.TracingOptions{
		Endpoint: jaeger.OTLPHTTP, Replica: "hub-0", ServiceVersion: "test",
	})
	if err != nil {
		t.Fatal(err)
	}
	if !tracing.Enabled {
		t.Fatal("tracing with an endpoint must be enabled")
	}
	c, err := client.New(observability.InstrumentKubeConfig(member.Config, "member-1"), client.Options{Scheme: framework.Scheme})
	if err != nil {
		t.Fatal(err)
	}

	var logs framework.SyncBuffer
	ctx = log.IntoContext(ctx, funcr.New(func(prefix, args string) { _, _ = logs.Write([]byte(args + "\n")) }, funcr.Options{}))

	name := "traced-" + time.Now().Format("150405.000000")
	name = strings.ReplaceAll(name, ".", "-")
	r := observability.TraceReconciler("FlinkDeployment",
		fakeReconcile(c, reconcile.Result{RequeueAfter: time.Minute}, nil),
		observability.WithReplica("hub-0"),
		observability.WithShardOf(func(key string) int {
			if key != "member-1/default/"+name {
				t.Errorf("shard asked for key %q", key)
			}
			return 42
		}))
	req := mcreconcile.Request{ClusterName: "member-1", Request: reconcile.Request{NamespacedName: types.NamespacedName{Namespace: "default", Name: name}}}
	if _, err := r.Reconcile(ctx, req); err != nil {
		t.Fatal(err)
	}
	if err := tracing.Shutdown(ctx); err != nil {
		t.Fatalf("flush: %v", err)
	}

	found := findTrace(t, ctx, name)
	checkReconcileSpans(t, found, name)
	checkTraceCommand(t, ctx, found, name)

	if !strings.Contains(logs.String(), `"trace_id"="`+found.TraceID) && !strings.Contains(logs.String(), `"trace_id"="`+strings.TrimLeft(found.TraceID, "0")) {
		t.Errorf("log lines lack trace_id %s:\n%s", found.TraceID, logs.String())
	}
}

// findTrace waits for Jaeger to hold the one reconcile trace of name and
// returns it.
func findTrace(t *testing.T, ctx context.Context, name string) jaegerquery.Trace {
	t.Helper()
	var found jaegerquery.Trace
	err := framework.Eventually(ctx, 30*time.Second, func(ctx context.Context) (bool, error) {
		traces, err := jaeger.Query.Find(ctx, jaegerquery.Query{
			Service: "flink-hub", Operation: "Reconcile FlinkDeployment",
			Tags: map[string]string{"flinkhub.name": name}, Limit: 5,
		})
		if err != nil || len(traces) != 1 {
			return false, err
		}
		found = traces[0]
		return true, nil
	})
	if err != nil {
		t.Fatalf("trace of %s not in Jaeger: %v", name, err)
	}
	return found
}

// checkReconcileSpans checks the spans of the reconcile of name: the root
// span with its tags, the observe phase under it and the member API call
// under that.
func checkReconcileSpans(t *testing.T, found jaegerquery.Trace, name string) {
	t.Helper()
	spans := map[string]jaegerquery.Span{}
	for _, s := range found.Spans {
		spans[s.OperationName] = s
	}
	root, ok := spans["Reconcile FlinkDeployment"]
	if !ok {
		t.Fatalf("no root span in %+v", found.Spans)
	}
	for k, want := range map[string]string{
		"flinkhub.cluster": "member-1", "flinkhub.namespace": "default", "flinkhub.name": name,
		"flinkhub.shard": "42", "flinkhub.replica": "hub-0", "flinkhub.generation": "3", "flinkhub.result": "requeue",
	} {
		if got, _ := root.Tag(k); got != want {
			t.Errorf("root span %s = %q, want %q", k, got, want)
		}
	}
	observe, ok := spans["observe"]
	if !ok || observe.ParentID() != root.SpanID {
		t.Fatalf("observe phase span missing or not a child of the root: %+v", found.Spans)
	}
	get, ok := spans["GET configmaps"]
	if !ok || get.ParentID() != observe.SpanID {
		t.Fatalf("member API call span missing or not a child of observe: %+v", found.Spans)
	}
	if got, _ := get.Tag("flinkhub.cluster"); got != "member-1" {
		t.Errorf("API span cluster = %q", got)
	}
}

// checkTraceCommand: kubectl flinkhub trace prints the trace found of the
// reconcile of name from the same Jaeger, and says so of a deployment never
// reconciled.
func checkTraceCommand(t *testing.T, ctx context.Context, found jaegerquery.Trace, name string) {
	t.Helper()
	var out bytes.Buffer
	cmd := tracecmd.NewCommand()
	cmd.SetOut(&out)
	cmd.SetArgs([]string{"member-1/default/" + name, "--jaeger-url", jaeger.QueryURL})
	if err := cmd.ExecuteContext(ctx); err != nil {
		t.Fatalf("trace command: %v", err)
	}
	for _, want := range []string{"trace " + found.TraceID, "Reconcile FlinkDeployment  cluster=member-1", "shard=42", "└─ observe", "GET configmaps"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("trace output lacks %q:\n%s", want, out.String())
		}
	}
	cmd = tracecmd.NewCommand()
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs([]string{"member-1/default/never-reconciled", "--jaeger-url", jaeger.QueryURL})
	if err := cmd.ExecuteContext(ctx); err == nil || !strings.Contains(err.Error(), "no reconcile traces") {
		t.Errorf("trace of an unknown deployment: want a 'no reconcile traces' error, got %v", err)
	}
}

func TestDeadCollectorNeverBlocksReconciles(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	before := counterValue(t, "flinkhub_trace_spans_dropped_total")
	// Port 1 on loopback is closed: every export fails at once.
	tracing, err := observability.SetupTracing(ctx, observability.TracingOptions{
		Endpoint: "http://127.0.0.1:1", ExportTimeout: 2 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	r := observability.TraceReconciler("FlinkDeployment", fakeReconcile(member.Client, reconcile.Result{}, errors.New("boom")))
	for i := range 50 {
		req := mcreconcile.Request{ClusterName: "member-1", Request: reconcile.Request{NamespacedName: types.NamespacedName{Namespace: "default", Name: "x" + string(rune('a'+i%26))}}}
		if _, err := r.Reconcile(ctx, req); err == nil || err.Error() != "boom" {
			t.Fatalf("reconcile %d: the wrapper must pass the inner error through, got %v", i, err)
		}
	}
	shutdownCtx, cancelShutdown := context.WithTimeout(ctx, 30*time.Second)
	defer cancelShutdown()
	_ = tracing.Shutdown(shutdownCtx) // the export error is expected
	if after := counterValue(t, "flinkhub_trace_spans_dropped_total"); after < before+50 {
		t.Fatalf("dropped spans counter went from %v to %v, want at least 50 more", before, after)
	}
}

func TestNoEndpointMeansNoTracing(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")
	tracing, err := observability.SetupTracing(context.Background(), observability.TracingOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if tracing.Enabled {
		t.Fatal("tracing without an endpoint must be off")
	}
	_, span := observability.Tracer().Start(context.Background(), "x")
	defer span.End()
	if span.IsRecording() || span.SpanContext().IsValid() {
		t.Fatal("spans must not record when tracing is off")
	}
	var _ trace.Span = span
	observability.AnnotateReconcile(context.Background(), attribute.String("k", "v")) // no root span: must not panic
}

func TestBadTracingSettingsAreRefused(t *testing.T) {
	cases := []observability.TracingOptions{
		{Endpoint: "http://127.0.0.1:4318", Protocol: "carrier-pigeon"},
		{Endpoint: "http://127.0.0.1:4318", Sampler: "sometimes"},
	}
	for _, opts := range cases {
		if _, err := observability.SetupTracing(context.Background(), opts); err == nil {
			t.Errorf("SetupTracing(%+v) accepted a bad setting", opts)
		}
	}
}

// counterValue sums a counter family from controller-runtime's registry,
// where the hub's metrics are served.
func counterValue(t *testing.T, name string) float64 {
	t.Helper()
	families, err := metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, f := range families {
		if f.GetName() == name {
			for _, m := range f.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}
