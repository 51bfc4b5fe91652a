package flinksim_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flink-hub/flink-hub/e2e/flinksim"
	"github.com/flink-hub/flink-hub/e2e/flinksim/netns"
	"github.com/flink-hub/flink-hub/internal/flinkrest"
	"github.com/flink-hub/flink-hub/internal/flinkrest/api"
)

// TestProxyTransport drives every client call through the member
// apiserver's service proxy to JobManagers served on a network namespace's
// veth address (the apiserver refuses loopback endpoints).
func TestProxyTransport(t *testing.T) {
	ctx := context.Background()
	_, network, ns := proxiedSimulator(t, 100*time.Millisecond)
	resolver, err := flinkrest.NewResolver(flinkrest.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	clientFor := func(name string) flinkrest.Client {
		c, err := resolver.Client(flinkrest.Target{Cluster: "m1", Namespace: ns, Name: name}, member.Config)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}

	// No REST Service yet: the apiserver's 404 means not ready.
	if _, err := clientFor("absent").Config(ctx); !flinkrest.IsNotReady(err) || !strings.Contains(err.Error(), `services "absent-rest" not found`) {
		t.Fatalf("proxy to a missing Service: %v", err)
	}

	// An application cluster.
	app := cluster{name: "proxied", ns: ns, tmReplicas: 1,
		args:   []string{"standalone-job", "--job-classname", "org.example.Main"},
		config: "parallelism.default: 1\nstate.savepoints.dir: file:///sp\n$internal.pipeline.job-id: 0000000000000000000000000000beef\n"}
	create(t, app)
	flink := clientFor(app.name)
	eventually(t, "JobManager on the namespace address", func() error { return runningPods(t, app, "jobmanager", 1) })
	if ip := pods(t, app, "jobmanager")[0].Status.PodIP; !slices.Contains(network.Addresses(), ip) {
		t.Fatalf("JobManager pod IP %s is not one of the namespace's %v", ip, network.Addresses())
	}
	eventually(t, "job running through the proxy", jobIs(ctx, flink, api.JobStatusRUNNING))
	checkApplicationThroughProxy(t, ctx, flink)

	// A second JobManager at the same time, on its own address.
	session := nativeCluster("proxied-session", ns, "kubernetes-session", "")
	create(t, session)

	// No JobManager behind the Service: the apiserver answers 503.
	deleteDeployment(t, ns, app.name)
	eventually(t, "503 from the apiserver proxy", func() error {
		_, err := flink.Config(ctx)
		if !flinkrest.IsNotReady(err) || !strings.Contains(err.Error(), `no endpoints available for service "proxied-rest"`) {
			return fmt.Errorf("want NotReady with the apiserver's message, got %v", err)
		}
		return nil
	})

	// The session cluster: jars through the proxy.
	checkSessionThroughProxy(t, ctx, clientFor(session.name), session)
}

// proxiedSimulator starts a simulator of member "m1" in a namespace of
// its own whose JobManagers answer on a network namespace's veth address,
// so the member apiserver's service proxy reaches them; it stops with the
// test.
func proxiedSimulator(t *testing.T, checkpointInterval time.Duration) (*flinksim.Simulator, *netns.Network, string) {
	t.Helper()
	network := netns.ForTest(t)
	ns := namespace(t)
	sim := flinksim.New(flinksim.Options{Network: network, Namespace: ns, CheckpointInterval: checkpointInterval, Log: testLogger(t)})
	if err := sim.AddMember("m1", member.Config); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Stop)
	return sim, network, ns
}

// checkApplicationThroughProxy makes every call of an application
// cluster's client (flink) through the proxy: reads, a checkpoint, a
// savepoint, stop with savepoint, a refused cancel and a disposal.
func checkApplicationThroughProxy(t *testing.T, ctx context.Context, flink flinkrest.Client) {
	t.Helper()
	const jobID = "0000000000000000000000000000beef"
	if cfg, err := flink.Config(ctx); err != nil || cfg.FlinkVersion != "1.18" {
		t.Fatalf("config %+v, %v", cfg, err)
	}
	if ov, err := flink.Overview(ctx); err != nil || ov.JobsRunning != 1 {
		t.Fatalf("overview %+v, %v", ov, err)
	}
	if tms, err := flink.TaskManagers(ctx); err != nil || len(tms) != 1 {
		t.Fatalf("task managers %+v, %v", tms, err)
	}
	if d, err := flink.JobDetails(ctx, jobID); err != nil || d.Name != "org.example.Main" {
		t.Fatalf("job details %+v, %v", d, err)
	}
	if _, err := flink.JobDetails(ctx, "ffffffffffffffffffffffffffffffff"); !flinkrest.IsNotFound(err) || !strings.Contains(err.Error(), "Could not find Flink job") {
		t.Fatalf("unknown job through the proxy: %v", err)
	}
	trig, err := flink.TriggerCheckpoint(ctx, jobID, flinkrest.CheckpointRequest{})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "checkpoint", func() error { return succeeded(flink.CheckpointStatus(ctx, jobID, trig)) })
	if st, err := flink.CheckpointStatistics(ctx, jobID); err != nil || st.Counts.Completed == 0 {
		t.Fatalf("checkpoint statistics %+v, %v", st, err)
	}
	if _, err := flink.Exceptions(ctx, jobID); err != nil {
		t.Fatal(err)
	}
	sp, err := flink.TriggerSavepoint(ctx, jobID, flinkrest.SavepointRequest{})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "savepoint", func() error { return succeeded(flink.SavepointStatus(ctx, jobID, sp)) })
	stop, err := flink.StopWithSavepoint(ctx, jobID, flinkrest.SavepointRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var final flinkrest.OperationStatus
	eventually(t, "stop with savepoint", func() error {
		st, err := flink.SavepointStatus(ctx, jobID, stop)
		final = st
		return succeeded(st, err)
	})
	if err := flink.CancelJob(ctx, jobID); flinkrest.KindOf(err) != flinkrest.KindRejected {
		t.Fatalf("cancel of a finished job: %v", err)
	}
	disp, err := flink.DisposeSavepoint(ctx, final.Location)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "disposal", func() error { return succeeded(flink.DisposalStatus(ctx, disp)) })
}

// checkSessionThroughProxy runs a jar on session through its client
// (sflink) and the proxy, then cancels the job and deletes the jar.
func checkSessionThroughProxy(t *testing.T, ctx context.Context, sflink flinkrest.Client, session cluster) {
	t.Helper()
	eventually(t, "session JobManager", func() error { return runningPods(t, session, "jobmanager", 1) })
	eventually(t, "session REST", func() error { _, err := sflink.Config(ctx); return err })
	jar, runID := runJar(t, ctx, sflink, "PK\x03\x04", api.JarRunRequestBody{EntryClass: "org.example.Session"})
	eventually(t, "session job running", jobIs(ctx, sflink, api.JobStatusRUNNING))
	if err := sflink.CancelJob(ctx, runID); err != nil {
		t.Fatal(err)
	}
	if err := sflink.DeleteJar(ctx, jar); err != nil {
		t.Fatal(err)
	}
}
