package flinkrest_test

import (
	"strings"
	"testing"

	"k8s.io/client-go/rest"

	"github.com/flink-hub/flink-hub/controllers/flinkrest"
)

func TestResolverEndpoints(t *testing.T) {
	member := &rest.Config{Host: "https://10.0.0.1:6443", BearerToken: "tok"}
	target := flinkrest.Target{Cluster: "m1", Namespace: "flink", Name: "basic"}
	cases := []struct {
		name        string
		opts        flinkrest.Options
		annotations map[string]string
		wantURL     string
		wantErr     string
	}{
		{name: "proxy by default", opts: flinkrest.Options{},
			wantURL: "https://10.0.0.1:6443/api/v1/namespaces/flink/services/basic-rest:rest/proxy/"},
		{name: "url by flag", opts: flinkrest.Options{Transport: "url", URLTemplate: "http://{{.Name}}-rest.{{.Namespace}}.svc:8081"},
			wantURL: "http://basic-rest.flink.svc:8081"},
		{name: "url by annotation", opts: flinkrest.Options{},
			annotations: map[string]string{flinkrest.AnnotationTransport: "url", flinkrest.AnnotationURLTemplate: "https://gw.example.com/{{.Cluster}}/{{.Namespace}}/{{.Name}}/"},
			wantURL:     "https://gw.example.com/m1/flink/basic/"},
		{name: "proxy by annotation over a url flag", opts: flinkrest.Options{Transport: "url", URLTemplate: "http://x/{{.Name}}"},
			annotations: map[string]string{flinkrest.AnnotationTransport: "proxy"},
			wantURL:     "https://10.0.0.1:6443/api/v1/namespaces/flink/services/basic-rest:rest/proxy/"},
		{name: "unknown transport annotation", annotations: map[string]string{flinkrest.AnnotationTransport: "carrier-pigeon"},
			wantErr: "annotation flink-hub.io/rest-transport"},
		{name: "bad template annotation", annotations: map[string]string{flinkrest.AnnotationTransport: "url", flinkrest.AnnotationURLTemplate: "{{.Oops"},
			wantErr: "annotation flink-hub.io/rest-url-template"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := flinkrest.NewResolver(tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			ep, err := r.Endpoint(target, member, tc.annotations)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || ep.BaseURL != tc.wantURL {
				t.Fatalf("endpoint = %q, %v; want %q", ep.BaseURL, err, tc.wantURL)
			}
		})
	}
	if _, err := flinkrest.NewResolver(flinkrest.Options{Transport: "ssh"}); err == nil {
		t.Fatal("unknown transport flag accepted")
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
