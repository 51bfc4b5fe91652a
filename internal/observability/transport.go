package observability

import (
	"context"
	"github.com/flink-hub/flink-hub/internal/observability/traceattr"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/trace"
	"k8s.io/client-go/rest"
)

// InstrumentKubeConfig returns a copy of cfg whose requests made inside a
// traced context become child spans named "<METHOD> <resource>[/<sub>]"
// (e.g. "PATCH flinkdeployments/status") with the cluster as attribute, and
// are counted in flinkhub_kube_request_duration_seconds. Requests outside a
// trace (informers' lists and watches) are neither traced nor counted, so
// they cost nothing.
func InstrumentKubeConfig(cfg *rest.Config, cluster string) *rest.Config {
	out := rest.CopyConfig(cfg)
	out.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return WrapKubeTransport(rt, cluster)
	})
	return out
}

// WrapKubeTransport instruments a Kubernetes API transport; see
// InstrumentKubeConfig. With cluster empty, the cluster is taken from the
// request's context (set by TraceReconciler), so one transport can serve a
// member whose name it does not know.
func WrapKubeTransport(rt http.RoundTripper, cluster string) http.RoundTripper {
	traced := otelhttp.NewTransport(&clusterAttrTransport{next: rt, cluster: cluster},
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
			return r.Method + " " + KubeResource(r.URL.Path)
		}),
		otelhttp.WithFilter(inTrace),
	)
	return &kubeMetricsTransport{next: traced, plain: rt, cluster: cluster}
}

func inTrace(r *http.Request) bool {
	return trace.SpanContextFromContext(r.Context()).IsValid()
}

type clusterKey struct{}

// WithCluster records the member cluster a context works on, for the
// attributes of the API spans made with it.
func WithCluster(ctx context.Context, cluster string) context.Context {
	return context.WithValue(ctx, clusterKey{}, cluster)
}

func clusterOf(ctx context.Context, fixed string) string {
	if fixed != "" {
		return fixed
	}
	c, _ := ctx.Value(clusterKey{}).(string)
	return c
}

// clusterAttrTransport runs inside otelhttp's span and labels it with the
// cluster.
type clusterAttrTransport struct {
	next    http.RoundTripper
	cluster string
}

func (t *clusterAttrTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if c := clusterOf(r.Context(), t.cluster); c != "" {
		trace.SpanFromContext(r.Context()).SetAttributes(traceattr.Cluster.String(c))
	}
	return t.next.RoundTrip(r)
}

type kubeMetricsTransport struct {
	next, plain http.RoundTripper
	cluster     string
}

func (t *kubeMetricsTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if !inTrace(r) {
		return t.plain.RoundTrip(r)
	}
	start := time.Now()
	resp, err := t.next.RoundTrip(r)
	code := "error"
	if err == nil {
		code = strconv.Itoa(resp.StatusCode)
	}
	apiRequests.WithLabelValues(clusterOf(r.Context(), t.cluster), r.Method, KubeResource(r.URL.Path), code).Observe(time.Since(start).Seconds())
	return resp, err
}

// KubeResource names the resource of a Kubernetes API path: "pods",
// "flinkdeployments/status", "namespaces"; never a name or namespace, so
// span names and metric labels stay low-cardinality.
func KubeResource(path string) string {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case len(parts) >= 2 && parts[0] == "api":
		parts = parts[2:] // api/v1
	case len(parts) >= 3 && parts[0] == "apis":
		parts = parts[3:] // apis/group/version
	default:
		return path
	}
	if len(parts) >= 3 && parts[0] == "namespaces" {
		if len(parts) == 3 && (parts[2] == "status" || parts[2] == "finalize") {
			return "namespaces/" + parts[2]
		}
		parts = parts[2:] // namespaces/<ns>/<resource>...
	}
	switch len(parts) {
	case 0:
		return "discovery"
	case 1, 2:
		return parts[0]
	default:
		// A proxied path (services/<name>/proxy/...) carries the target's
		// own path, ids included: cut it.
		return parts[0] + "/" + parts[2]
	}
}
