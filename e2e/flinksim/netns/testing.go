package netns

import (
	"os"
	"testing"
)

// ForTest creates a Network for a test and closes it when the test ends.
// Only a run without root skips (a developer's machine): as root, as in
// CI, anything missing (iproute2, namespace support) fails the test rather
// than hiding it.
func ForTest(t testing.TB) *Network {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("creating a network namespace needs root (CI runs as root)")
	}
	n, err := New()
	if err != nil {
		t.Fatalf("network namespace: %v", err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Error(err)
		}
	})
	return n
}
