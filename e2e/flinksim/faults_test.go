package flinksim_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/flink-hub/flink-hub/e2e/flinksim"
	"github.com/flink-hub/flink-hub/e2e/flinksim/jobmanager"
	"github.com/flink-hub/flink-hub/internal/flinkrest"
	"github.com/flink-hub/flink-hub/internal/flinkrest/api"
)

func TestClusterFaultsOutliveJobManagers(t *testing.T) {
	ctx := context.Background()
	ns := namespace(t)
	sim, clientFor := startSimulator(t, flinksim.Options{Namespace: ns})
	c := nativeCluster("faulty", ns, "kubernetes-application", "state.savepoints.dir: s3://sp\n$internal.pipeline.job-id: 0000000000000000000000000000f00d\n")
	const jobID = "0000000000000000000000000000f00d"

	// A JobManager that exits at start: its pod crash-loops, never ready.
	if err := sim.SetFaults("m1", ns, c.name, flinksim.ClusterFaults{CrashLoop: true}); err != nil {
		t.Fatal(err)
	}
	create(t, c)
	flink := clientFor(c.name, ns)
	checkCrashLooping(t, ctx, flink, c)

	// Failing savepoints, set before the JobManager starts, stay injected
	// after a crash.
	if err := sim.SetFaults("m1", ns, c.name, flinksim.ClusterFaults{JobManager: jobmanager.Faults{SavepointFailure: "java.io.IOException: s3 down"}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "job running", jobIs(ctx, flink, api.JobStatusRUNNING))
	failingSavepoint(t, ctx, flink, jobID)
	if err := sim.Crash(ctx, "m1", ns, c.name); err != nil {
		t.Fatal(err)
	}
	eventually(t, "job running after the crash", jobIs(ctx, flink, api.JobStatusRUNNING))
	failingSavepoint(t, ctx, flink, jobID)

	// Cleared, savepoints succeed and are counted across JobManagers.
	if err := sim.SetFaults("m1", ns, c.name, flinksim.ClusterFaults{}); err != nil {
		t.Fatal(err)
	}
	var paths []string
	for range 2 {
		trig, err := flink.TriggerSavepoint(ctx, jobID, flinkrest.SavepointRequest{})
		if err != nil {
			t.Fatal(err)
		}
		eventually(t, "savepoint", func() error { return succeeded(flink.SavepointStatus(ctx, jobID, trig)) })
		st, _ := flink.SavepointStatus(ctx, jobID, trig)
		paths = append(paths, st.Location)
		if err := sim.Crash(ctx, "m1", ns, c.name); err != nil {
			t.Fatal(err)
		}
		eventually(t, "job running after the crash", jobIs(ctx, flink, api.JobStatusRUNNING))
	}
	var got []string
	for _, sp := range sim.Savepoints("m1", ns, c.name) {
		got = append(got, sp.Path)
	}
	if strings.Join(got, ",") != strings.Join(paths, ",") {
		t.Fatalf("savepoints recorded %v, taken %v", got, paths)
	}
}

// checkCrashLooping waits until c's JobManager pod crash-loops and checks
// that its Deployment is not available and flink gets no answer.
func checkCrashLooping(t *testing.T, ctx context.Context, flink flinkrest.Client, c cluster) {
	t.Helper()
	eventually(t, "JobManager crash-looping", func() error {
		ps := pods(t, c, "jobmanager")
		if len(ps) != 1 || len(ps[0].Status.ContainerStatuses) != 1 {
			return fmt.Errorf("pods %v", ps)
		}
		st := ps[0].Status.ContainerStatuses[0]
		if st.Ready || st.State.Waiting == nil || st.State.Waiting.Reason != "CrashLoopBackOff" || st.RestartCount == 0 {
			return fmt.Errorf("container status %+v", st)
		}
		return nil
	})
	var d appsv1.Deployment
	if err := member.Client.Get(ctx, types.NamespacedName{Namespace: c.ns, Name: c.name}, &d); err != nil {
		t.Fatal(err)
	}
	for _, cond := range d.Status.Conditions {
		if cond.Type == appsv1.DeploymentAvailable && cond.Status != corev1.ConditionFalse {
			t.Fatalf("crash-looping Deployment is available: %+v", cond)
		}
	}
	if _, err := flink.Config(ctx); !flinkrest.IsNotReady(err) {
		t.Fatalf("crash-looping JobManager answered: %v", err)
	}
}

// failingSavepoint triggers a savepoint of jobID and waits until it fails
// with the injected "s3 down".
func failingSavepoint(t *testing.T, ctx context.Context, flink flinkrest.Client, jobID string) {
	t.Helper()
	trig, err := flink.TriggerSavepoint(ctx, jobID, flinkrest.SavepointRequest{})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "savepoint failure", func() error {
		st, err := flink.SavepointStatus(ctx, jobID, trig)
		if err != nil || !st.Done || !strings.Contains(st.Failure, "s3 down") {
			return fmt.Errorf("savepoint %+v, %v", st, err)
		}
		return nil
	})
}

// TestHAWithoutStorageDirCrashLoops: with high availability and no
// high-availability.storageDir Flink's JobManager exits at start, so its
// pod crash-loops; the end of its log is the termination message where
// the container asks for it (FallbackToLogsOnError). Once the
// configuration names a storage directory, the JobManager starts.
func TestHAWithoutStorageDirCrashLoops(t *testing.T) {
	ctx := context.Background()
	ns := namespace(t)
	_, clientFor := startSimulator(t, flinksim.Options{Namespace: ns})
	const conf = "kubernetes.cluster-id: no-ha-dir\nhigh-availability.type: kubernetes\n$internal.application.main: org.example.Main\n"
	c := nativeCluster("no-ha-dir", ns, "kubernetes-application", conf)
	create(t, c)
	flink := clientFor(c.name, ns)
	checkCrashLooping(t, ctx, flink, c)

	var d appsv1.Deployment
	if err := member.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: c.name}, &d); err != nil {
		t.Fatal(err)
	}
	d.Spec.Template.Spec.Containers[0].TerminationMessagePolicy = corev1.TerminationMessageFallbackToLogsOnError
	if err := member.Client.Update(ctx, &d); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the log tail as termination message", func() error {
		ps := pods(t, c, "jobmanager")
		if len(ps) != 1 || len(ps[0].Status.ContainerStatuses) != 1 {
			return fmt.Errorf("pods %v", ps)
		}
		last := ps[0].Status.ContainerStatuses[0].LastTerminationState.Terminated
		if last == nil || !strings.Contains(last.Message, "Configuration is missing the mandatory parameter: Key: 'high-availability.storageDir'") {
			return fmt.Errorf("last termination %+v", last)
		}
		return nil
	})

	var cm corev1.ConfigMap
	if err := member.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: "flink-config-" + c.name}, &cm); err != nil {
		t.Fatal(err)
	}
	cm.Data["config.yaml"] = conf + "high-availability.storageDir: s3://ha\n"
	if err := member.Client.Update(ctx, &cm); err != nil {
		t.Fatal(err)
	}
	eventually(t, "JobManager running", func() error { return runningPods(t, c, "jobmanager", 1) })
	eventually(t, "job running", jobIs(ctx, flink, api.JobStatusRUNNING))
}
