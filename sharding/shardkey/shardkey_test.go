package shardkey

import "testing"

func TestParse(t *testing.T) {
	k, ok := Parse(Key{"m", "ns", "a"}.String())
	c, ns, n := k.Cluster, k.Namespace, k.Name
	if !ok || c != "m" || ns != "ns" || n != "a" {
		t.Fatalf("Parse round trip: %q %q %q %v", c, ns, n, ok)
	}
	if _, ok := Parse("no-slashes"); ok {
		t.Fatal("Parse accepted a key without slashes")
	}
}
