package flinkrest

import (
	"testing"

	"k8s.io/client-go/rest"
)

// TestProxyTransportsFollowMembers: one cached transport per member, for
// its current rest.Config; a re-engaged member's new config replaces it and
// a removed member's is forgotten, so the cache does not grow with
// re-engagements.
func TestProxyTransportsFollowMembers(t *testing.T) {
	r, err := NewResolver(Options{})
	if err != nil {
		t.Fatal(err)
	}
	target := func(cluster string) Target { return Target{Cluster: cluster, Namespace: "flink", Name: "basic"} }
	transport := func(cluster string, cfg *rest.Config) any {
		t.Helper()
		ep, err := r.Endpoint(target(cluster), cfg)
		if err != nil {
			t.Fatal(err)
		}
		return ep.Transport
	}
	first := &rest.Config{Host: "https://10.0.0.1:6443", BearerToken: "one"}
	a := transport("m1", first)
	if b := transport("m1", first); b != a {
		t.Error("the same member config got a new transport")
	}
	reengaged := &rest.Config{Host: "https://10.0.0.1:6443", BearerToken: "two"}
	for range 3 {
		if c := transport("m1", reengaged); c == a {
			t.Error("a re-engaged member kept the transport of its old config")
		}
	}
	transport("m2", &rest.Config{Host: "https://10.0.0.2:6443"})
	if n := r.cachedTransports(); n != 2 {
		t.Errorf("%d cached transports for two members, want 2", n)
	}
	r.Forget("m1")
	r.Forget("never-seen")
	if n := r.cachedTransports(); n != 1 {
		t.Errorf("%d cached transports after m1 was forgotten, want 1", n)
	}
}
