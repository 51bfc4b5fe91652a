package observability

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

var (
	reconcileTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "flinkhub_reconcile_total",
		Help: "Reconciles by kind, member cluster and result (done, requeue, error).",
	}, []string{"kind", "cluster", "result"})

	reconcileDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "flinkhub_reconcile_duration_seconds",
		Help:    "Reconcile duration by kind, member cluster and result.",
		Buckets: prometheus.ExponentialBuckets(0.005, 2, 14),
	}, []string{"kind", "cluster", "result"})

	spansExported = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "flinkhub_trace_spans_exported_total",
		Help: "Spans delivered to the OTLP endpoint.",
	})

	spansDropped = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "flinkhub_trace_spans_dropped_total",
		Help: "Spans that could not be delivered to the OTLP endpoint.",
	})

	apiRequests = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "flinkhub_kube_request_duration_seconds",
		Help:    "Kubernetes API requests made inside reconciles, by cluster, verb and resource.",
		Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
	}, []string{"cluster", "verb", "resource", "code"})
)

func init() {
	metrics.Registry.MustRegister(reconcileTotal, reconcileDuration, spansExported, spansDropped, apiRequests)
}
