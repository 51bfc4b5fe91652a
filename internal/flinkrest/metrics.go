package flinkrest

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

var requestDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
	Name:    "flinkhub_flink_rest_request_duration_seconds",
	Help:    "Flink REST calls by route template and HTTP status (\"error\" when no response arrived).",
	Buckets: prometheus.ExponentialBuckets(0.002, 2, 14),
}, []string{"route", "code"})

func init() { metrics.Registry.MustRegister(requestDuration) }

// meteredTransport records every call's duration and outcome by route.
type meteredTransport struct{ next http.RoundTripper }

func (t meteredTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := t.next.RoundTrip(r)
	code := "error"
	if err == nil {
		code = strconv.Itoa(resp.StatusCode)
	}
	route := "unknown"
	if op, ok := r.Context().Value(operationKey{}).(string); ok {
		route = op
		if rt := RouteOf(op); rt != "" {
			route = rt
		}
	}
	requestDuration.WithLabelValues(route, code).Observe(time.Since(start).Seconds())
	return resp, err
}
