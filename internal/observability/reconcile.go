package observability

import (
	"context"
	"github.com/flink-hub/flink-hub/internal/observability/traceattr"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	mcreconcile "sigs.k8s.io/multicluster-runtime/pkg/reconcile"
)

// Reconcile results recorded on spans and metrics.
const (
	ResultDone    = "done"
	ResultRequeue = "requeue"
	ResultError   = "error"
)

type rootSpanKey struct{}

// ReconcileOption configures TraceReconciler.
type ReconcileOption func(*reconcileTracer)

// WithKeyOf sets the shard key of a request, for objects whose keys are
// not cluster/namespace/name (session jobs).
func WithKeyOf(keyOf func(mcreconcile.Request) string) ReconcileOption {
	return func(r *reconcileTracer) { r.keyOf = keyOf }
}

// WithReplica records the replica identity on every reconcile span; ""
// records none.
func WithReplica(id string) ReconcileOption {
	return func(r *reconcileTracer) { r.replica = id }
}

// WithShardOf records the shard of the reconciled key; shardOf receives the
// key of the request (cluster/namespace/name unless WithKeyOf says
// otherwise). Nil records no shard.
func WithShardOf(shardOf func(key string) int) ReconcileOption {
	return func(r *reconcileTracer) { r.shardOf = shardOf }
}

// TraceReconciler wraps a multi-cluster reconciler so every reconcile runs in
// a root span named "Reconcile <kind>", logs with its trace_id, and counts in
// the reconcile metrics. Put any ownership gate outside this wrapper, so a
// request the gate drops is not traced as work.
func TraceReconciler(kind string, inner reconcile.TypedReconciler[mcreconcile.Request], opts ...ReconcileOption) reconcile.TypedReconciler[mcreconcile.Request] {
	r := &reconcileTracer{kind: kind, inner: inner}
	for _, o := range opts {
		o(r)
	}
	return r
}

type reconcileTracer struct {
	kind    string
	inner   reconcile.TypedReconciler[mcreconcile.Request]
	replica string
	shardOf func(string) int
	keyOf   func(mcreconcile.Request) string
}

func (r *reconcileTracer) Reconcile(ctx context.Context, req mcreconcile.Request) (result reconcile.Result, err error) {
	cluster := req.ClusterName.String()
	attrs := []attribute.KeyValue{
		traceattr.Cluster.String(cluster),
		traceattr.Namespace.String(req.Namespace),
		traceattr.Name.String(req.Name),
	}
	if r.replica != "" {
		attrs = append(attrs, traceattr.Replica.String(r.replica))
	}
	if r.shardOf != nil {
		key := cluster + "/" + req.Namespace + "/" + req.Name
		if r.keyOf != nil {
			key = r.keyOf(req)
		}
		attrs = append(attrs, traceattr.Shard.Int(r.shardOf(key)))
	}
	ctx, span := Tracer().Start(WithCluster(ctx, cluster), "Reconcile "+r.kind, trace.WithAttributes(attrs...), trace.WithSpanKind(trace.SpanKindInternal))
	ctx = context.WithValue(ctx, rootSpanKey{}, span)
	if sc := span.SpanContext(); sc.IsValid() {
		ctx = log.IntoContext(ctx, log.FromContext(ctx).WithValues("trace_id", sc.TraceID().String()))
	}
	start := time.Now()
	defer func() {
		outcome := resultOf(result, err)
		span.SetAttributes(traceattr.Result.String(outcome))
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
		}
		span.End()
		reconcileTotal.WithLabelValues(r.kind, cluster, outcome).Inc()
		reconcileDuration.WithLabelValues(r.kind, cluster, outcome).Observe(time.Since(start).Seconds())
	}()
	return r.inner.Reconcile(ctx, req)
}

func resultOf(result reconcile.Result, err error) string {
	switch {
	case err != nil:
		return ResultError
	//lint:ignore SA1019 Requeue is deprecated but still honoured by controller-runtime
	case result.RequeueAfter > 0 || result.Requeue:
		return ResultRequeue
	default:
		return ResultDone
	}
}

// AnnotateReconcile adds attributes to the current reconcile's root span,
// e.g. the generation once the object is fetched. It is a no-op outside a
// traced reconcile.
func AnnotateReconcile(ctx context.Context, attrs ...attribute.KeyValue) {
	if span, ok := ctx.Value(rootSpanKey{}).(trace.Span); ok {
		span.SetAttributes(attrs...)
	}
}

// StartPhase starts a child span for one reconcile phase (observe, validate,
// diff, deploy, status). Call the returned function with the phase's error
// when it ends:
//
//	ctx, end := observability.StartPhase(ctx, "observe")
//	err := observe(ctx)
//	end(err)
func StartPhase(ctx context.Context, phase string) (context.Context, func(error)) {
	ctx, span := Tracer().Start(ctx, phase)
	return ctx, func(err error) {
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
		}
		span.End()
	}
}

// Event records a named event with attributes on the current span, e.g. a
// fence acquired or lost.
func Event(ctx context.Context, name string, attrs ...attribute.KeyValue) {
	trace.SpanFromContext(ctx).AddEvent(name, trace.WithAttributes(attrs...))
}
