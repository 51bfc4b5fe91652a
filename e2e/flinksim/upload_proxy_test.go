package flinksim_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/flink-hub/flink-hub/e2e/flinksim"
	"github.com/flink-hub/flink-hub/e2e/flinksim/jobmanager"
	"github.com/flink-hub/flink-hub/internal/clusters/memberconfig"
	"github.com/flink-hub/flink-hub/internal/flinkrest"
)

// TestJarUploadThroughProxy uploads jars to a session cluster through the
// member apiserver's service proxy with the hub's member config, whose
// every request has the member request timeout: an upload over a slow
// link that takes twice that timeout succeeds within its own budget (it
// was cut at the member request timeout), and one whose transfer stalls
// fails once nothing moved for its stall timeout, saying so, long before
// its budget.
func TestJarUploadThroughProxy(t *testing.T) {
	ctx := context.Background()
	sim, _, ns := proxiedSimulator(t, 0)
	session := nativeCluster("uploads", ns, "kubernetes-session", "")
	create(t, session)

	const memberTimeout = time.Second
	hubConfig := rest.CopyConfig(member.Config)
	memberconfig.RequestTimeout(hubConfig, memberTimeout)
	// Uploads given time down to 32 KiB/s: the simulated link is 64 KiB/s.
	resolver, err := flinkrest.NewResolver(flinkrest.Options{Timeout: memberTimeout, UploadMinRate: 32 << 10})
	if err != nil {
		t.Fatal(err)
	}
	flink, err := resolver.Client(flinkrest.Target{Cluster: "m1", Namespace: ns, Name: session.name}, hubConfig)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "session JobManager", func() error { return runningPods(t, session, "jobmanager", 1) })
	eventually(t, "session REST", func() error { _, err := flink.Config(ctx); return err })

	setUploadFaults(t, sim, ns, session.name, jobmanager.Faults{UploadRate: 64 << 10})
	start := time.Now()
	jar := append([]byte("PK\x03\x04"), make([]byte, 128<<10)...) // 2 s at 64 KiB/s
	if _, err := flink.UploadJar(ctx, "job.jar", bytes.NewReader(jar)); err != nil {
		t.Fatalf("upload over a slow link, %s in: %v", time.Since(start), err)
	}
	if took := time.Since(start); took < 2*memberTimeout {
		t.Fatalf("upload took %s: the simulated link did not slow it past the member request timeout", took)
	}

	// Larger than the buffers on the way, which take megabytes at once.
	// At 16 MiB/s nothing moving for 1.25 s is a stall; the budget is 5 s.
	fast, err := flinkrest.New(mustEndpoint(t, ns, session.name, hubConfig), flinkrest.WithTimeout(memberTimeout), flinkrest.WithUploadRate(16<<20))
	if err != nil {
		t.Fatal(err)
	}
	setUploadFaults(t, sim, ns, session.name, jobmanager.Faults{UploadStallAfter: 64 << 10})
	start = time.Now()
	_, err = fast.UploadJar(ctx, "big.jar", bytes.NewReader(make([]byte, 64<<20)))
	took := time.Since(start)
	if !flinkrest.IsTimeout(err) || !strings.Contains(err.Error(), "stalled") || !strings.Contains(err.Error(), "64.0 MiB") {
		t.Fatalf("stalled upload after %s: %v; want a timeout saying it stalled and the jar's size", took, err)
	}
	if took > 4*time.Second {
		t.Fatalf("stalled upload failed after %s, want soon after 1.25s without progress", took)
	}
}

// mustEndpoint is the proxy endpoint of a session cluster of member m1.
func mustEndpoint(t *testing.T, ns, name string, cfg *rest.Config) flinkrest.Endpoint {
	t.Helper()
	resolver, err := flinkrest.NewResolver(flinkrest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ep, err := resolver.Endpoint(flinkrest.Target{Cluster: "m1", Namespace: ns, Name: name}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return ep
}

// setUploadFaults injects f into the session cluster's JobManager.
func setUploadFaults(t *testing.T, sim *flinksim.Simulator, ns, name string, f jobmanager.Faults) {
	t.Helper()
	if err := sim.SetFaults("m1", ns, name, flinksim.ClusterFaults{JobManager: f}); err != nil {
		t.Fatal(err)
	}
}
