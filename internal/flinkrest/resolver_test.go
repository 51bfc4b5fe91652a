package flinkrest_test

import (
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/flink-hub/flink-hub/internal/flinkrest"
)

func TestResolverEndpoints(t *testing.T) {
	member := &rest.Config{Host: "https://10.0.0.1:6443", BearerToken: "tok"}
	target := flinkrest.Target{Cluster: "m1", Namespace: "flink", Name: "basic"}
	cases := []struct {
		name    string
		opts    flinkrest.Options
		target  flinkrest.Target
		wantURL string
	}{
		{name: "proxy by default", opts: flinkrest.Options{}, target: target,
			wantURL: "https://10.0.0.1:6443/api/v1/namespaces/flink/services/basic-rest:rest/proxy/"},
		{name: "url by flag", opts: flinkrest.Options{Transport: "url", URLTemplate: "http://{{.Name}}-rest.{{.Namespace}}.svc:8081"}, target: target,
			wantURL: "http://basic-rest.flink.svc:8081"},
		{name: "url behind an ingress", opts: flinkrest.Options{Transport: "url", URLTemplate: "https://gw.example.com/{{.Cluster}}/{{.Namespace}}/{{.Name}}/"}, target: target,
			wantURL: "https://gw.example.com/m1/flink/basic/"},
		{name: "values are path-escaped", opts: flinkrest.Options{Transport: "url", URLTemplate: "https://gw.example.com/{{.Cluster}}/{{.Namespace}}/{{.Name}}/"},
			target:  flinkrest.Target{Cluster: "a/b?c", Namespace: "{{.Name}}", Name: "n#x"},
			wantURL: "https://gw.example.com/a%2Fb%3Fc/%7B%7B.Name%7D%7D/n%23x/"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := flinkrest.NewResolver(tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			ep, err := r.Endpoint(tc.target, member)
			if err != nil || ep.BaseURL != tc.wantURL {
				t.Fatalf("endpoint = %q, %v; want %q", ep.BaseURL, err, tc.wantURL)
			}
		})
	}
	if _, err := flinkrest.NewResolver(flinkrest.Options{Transport: "ssh"}); err == nil {
		t.Fatal("unknown transport flag accepted")
	}
}

// TestURLTemplateIsNeverExecuted: a URL template is text with three
// placeholders, not a program. Anything else between braces is refused at
// startup, so neither a loop nor a function call can run.
func TestURLTemplateIsNeverExecuted(t *testing.T) {
	for name, text := range map[string]string{
		// {{range 1000000000}} would hold a reconcile for minutes; 3 shows
		// that no loop runs, without hurting the old code's test run.
		"a loop":               "http://x/{{range 3}}{{end}}{{.Name}}",
		"a function call":      `http://{{printf "%s" "evil.example.com"}}/{{.Name}}`,
		"an unknown field":     "http://x/{{.Nmae}}",
		"a field with spaces":  "http://x/{{ .Name }}",
		"an unclosed action":   "http://x/{{.Name",
		"a closing brace pair": "http://x/}}{{.Name}}",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := flinkrest.ParseURLTemplate(text)
			if err == nil || !strings.Contains(err.Error(), "only {{.Cluster}}, {{.Namespace}} and {{.Name}} are replaced") {
				t.Fatalf("template %q: %v", text, err)
			}
			if _, err := flinkrest.NewResolver(flinkrest.Options{Transport: flinkrest.TransportURL, URLTemplate: text}); err == nil {
				t.Fatalf("resolver started with template %q", text)
			}
		})
	}
}

func TestRoutesComeFromTheSpec(t *testing.T) {
	cases := map[string]string{
		"getJobsOverview":          "GET /jobs/overview",
		"triggerStopWithSavepoint": "POST /jobs/{jobid}/stop",
		"getSavepointStatus":       "GET /jobs/{jobid}/savepoints/{triggerid}",
	}
	for op, want := range cases {
		if got := flinkrest.RouteOf(op); got != want {
			t.Errorf("RouteOf(%q) = %q, want %q", op, got, want)
		}
	}
	if flinkrest.RouteOf("noSuchOperation") != "" {
		t.Error("unknown operations have no route")
	}
}

// TestOptionsValidateTimeout: a Flink REST timeout of zero or less, which
// would expire every call before it starts, is refused naming the flag.
func TestOptionsValidateTimeout(t *testing.T) {
	for _, tc := range []struct {
		timeout time.Duration
		refused bool
	}{
		{0, true},
		{-time.Second, true},
		{time.Second, false},
		{flinkrest.DefaultTimeout, false},
	} {
		err := flinkrest.Options{Transport: flinkrest.TransportProxy, Timeout: tc.timeout}.Validate()
		if (err != nil) != tc.refused || (err != nil && !strings.Contains(err.Error(), "--flink-rest-timeout must be positive")) {
			t.Errorf("timeout %s: %v, want refused: %v", tc.timeout, err, tc.refused)
		}
	}
}

// TestOptionsValidateUploadRate: an upload rate below the floor, which
// would make an upload's budget hours long, is refused naming the flag;
// unset (0) keeps the default.
func TestOptionsValidateUploadRate(t *testing.T) {
	for _, tc := range []struct {
		rate    int64
		refused bool
	}{
		{0, false},
		{1, true},
		{flinkrest.MinUploadRateFloor - 1, true},
		{flinkrest.MinUploadRateFloor, false},
		{flinkrest.MinUploadRate, false},
	} {
		err := flinkrest.Options{Transport: flinkrest.TransportProxy, Timeout: time.Second, UploadMinRate: tc.rate}.Validate()
		if (err != nil) != tc.refused || (err != nil && !strings.Contains(err.Error(), "--jar-upload-min-rate must be at least")) {
			t.Errorf("rate %d: %v, want refused: %v", tc.rate, err, tc.refused)
		}
	}
}
