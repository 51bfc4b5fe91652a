package flinkrest

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"

	"github.com/flink-hub/flink-hub/internal/flinknames"
)

// Target names the FlinkDeployment whose JobManager a client talks to.
type Target struct {
	// Cluster is the member cluster's name in the hub.
	Cluster string
	// Namespace and Name are the FlinkDeployment's.
	Namespace string
	Name      string
}

// Endpoint is where a Flink REST client sends its requests.
type Endpoint struct {
	// BaseURL is the JobManager's REST root; operation paths are appended.
	BaseURL string
	// Transport carries the requests; nil means http.DefaultTransport.
	Transport http.RoundTripper
}

// ProxyURL returns the member apiserver's service proxy URL,
// <apiserver>/api/v1/namespaces/<ns>/services/<name>-rest:rest/proxy/,
// for t's REST Service on the apiserver at host (a rest.Config Host: URL or
// host:port). It is the base URL of the proxy transport (DESIGN.md).
func ProxyURL(host string, t Target) (string, error) {
	if !strings.Contains(host, "://") {
		host = "https://" + host
	}
	u, err := url.Parse(host)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("flink rest proxy: bad apiserver host for cluster %q", t.Cluster)
	}
	u.User = nil
	return u.JoinPath("api/v1/namespaces", t.Namespace, "services", flinknames.RestService(t.Name)+":"+flinknames.RestPort, "proxy").String() + "/", nil
}

// URL template placeholders: the only text of a URL template that is
// replaced. Nothing in a template is executed.
const (
	PlaceholderCluster   = "{{.Cluster}}"
	PlaceholderNamespace = "{{.Namespace}}"
	PlaceholderName      = "{{.Name}}"
)

// URLTemplate renders a JobManager base URL from a Target, for example
// "http://{{.Name}}-rest.{{.Namespace}}.svc:8081" on a flat network or
// "https://flink.example.com/{{.Cluster}}/{{.Namespace}}/{{.Name}}" behind
// an ingress. It is not a Go template: the three placeholders are replaced
// literally by the path-escaped values, and any other "{{" or "}}" is
// refused by ParseURLTemplate.
type URLTemplate struct {
	text string
}

// ParseURLTemplate checks a base URL template: only the placeholders, and
// an http(s) URL once they are replaced.
func ParseURLTemplate(text string) (*URLTemplate, error) {
	rest := strings.NewReplacer(PlaceholderCluster, "", PlaceholderNamespace, "", PlaceholderName, "").Replace(text)
	if strings.Contains(rest, "{{") || strings.Contains(rest, "}}") {
		return nil, fmt.Errorf("flink rest url template %q: only %s, %s and %s are replaced; other {{ }} are not supported",
			redactTemplate(text), PlaceholderCluster, PlaceholderNamespace, PlaceholderName)
	}
	t := &URLTemplate{text: text}
	if _, err := t.URL(Target{Cluster: "c", Namespace: "ns", Name: "n"}); err != nil {
		return nil, err
	}
	return t, nil
}

// String returns the template text.
func (t *URLTemplate) String() string { return t.text }

// URL renders the base URL for a target.
func (t *URLTemplate) URL(target Target) (string, error) {
	s := strings.NewReplacer(
		PlaceholderCluster, url.PathEscape(target.Cluster),
		PlaceholderNamespace, url.PathEscape(target.Namespace),
		PlaceholderName, url.PathEscape(target.Name),
	).Replace(t.text)
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		// The rendered URL may carry credentials: never quote it.
		return "", fmt.Errorf("flink rest url template %q does not render an http(s) URL", redactTemplate(t.text))
	}
	return s, nil
}

// redactTemplate hides a userinfo part of a template text.
func redactTemplate(text string) string {
	if i := strings.Index(text, "://"); i >= 0 {
		if j := strings.Index(text[i+3:], "@"); j >= 0 {
			return text[:i+3] + "REDACTED@" + text[i+3+j+1:]
		}
	}
	return text
}

type operationKey struct{}

// withOperation records the Flink REST operation for the span name.
func withOperation(ctx context.Context, op string) context.Context {
	return context.WithValue(ctx, operationKey{}, op)
}

// instrument wraps rt with otelhttp: every call becomes a client span named
// "flink <operation>", a child of the caller's span.
func instrument(rt http.RoundTripper) http.RoundTripper {
	if rt == nil {
		rt = http.DefaultTransport
	}
	return otelhttp.NewTransport(meteredTransport{next: rt}, otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
		if op, ok := r.Context().Value(operationKey{}).(string); ok {
			if route := RouteOf(op); route != "" {
				return "flink " + route
			}
			return "flink " + op
		}
		return "flink " + r.Method
	}))
}
