package shardkey

import "testing"

func TestParse(t *testing.T) {
	k, ok := Parse(Key{Cluster: "m", Namespace: "ns", Name: "a"}.String())
	c, ns, n := k.Cluster, k.Namespace, k.Name
	if !ok || c != "m" || ns != "ns" || n != "a" {
		t.Fatalf("Parse round trip: %q %q %q %v", c, ns, n, ok)
	}
	if _, ok := Parse("no-slashes"); ok {
		t.Fatal("Parse accepted a key without slashes")
	}
	job := Key{Cluster: "m", Namespace: "ns", Name: "a", Kind: KindSessionJob}
	if job.String() == (Key{Cluster: "m", Namespace: "ns", Name: "a"}).String() {
		t.Fatal("a session job and a FlinkDeployment of one name share a key")
	}
	if back, ok := Parse(job.String()); !ok || back != job {
		t.Fatalf("Parse(%s) = %+v", job, back)
	}
}
