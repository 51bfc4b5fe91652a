package flinkstatesnapshot_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/e2e/conformance/examples"
	"github.com/flink-hub/flink-hub/e2e/flinksim/jobmanager"
	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/problem"
)

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }

// runningDeployment creates the upstream HA example (checkpoint and
// savepoint directories) as ns/name and waits until its job runs.
func runningDeployment(t *testing.T, ns, name string) *v1beta1.FlinkDeployment {
	t.Helper()
	return runningDeploymentWith(t, ns, name, nil)
}

// runningDeploymentWith is runningDeployment with extra Flink settings.
func runningDeploymentWith(t *testing.T, ns, name string, settings map[string]string) *v1beta1.FlinkDeployment {
	t.Helper()
	return runningDeploymentOf(t, ns, name, settings, func(*v1beta1.FlinkDeployment) {})
}

// runningDeploymentOf is runningDeploymentWith, the example edited first.
func runningDeploymentOf(t *testing.T, ns, name string, settings map[string]string, edit func(*v1beta1.FlinkDeployment)) *v1beta1.FlinkDeployment {
	t.Helper()
	ctx := context.Background()
	if err := fleet.Members[0].CreateNamespace(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	fd, err := examples.Named("basic-checkpoint-ha/basic-checkpoint-ha-example")
	if err != nil {
		t.Fatal(err)
	}
	fd.Namespace, fd.Name = ns, name
	if len(settings) > 0 {
		conf := map[string]any{}
		if fd.Spec.FlinkConfiguration != nil {
			if err := json.Unmarshal(fd.Spec.FlinkConfiguration.Raw, &conf); err != nil {
				t.Fatal(err)
			}
		}
		for k, v := range settings {
			conf[k] = v
		}
		raw, err := json.Marshal(conf)
		if err != nil {
			t.Fatal(err)
		}
		fd.Spec.FlinkConfiguration = &apiextensionsv1.JSON{Raw: raw}
	}
	edit(fd)
	create(t, fd)
	framework.Await(t, name+" RUNNING", func() error {
		got := &v1beta1.FlinkDeployment{}
		if err := fleet.Members[0].Client.Get(ctx, client.ObjectKeyFromObject(fd), got); err != nil {
			return err
		}
		if got.Status.JobStatus.State != v1beta1.JobRunning || got.Status.JobManagerDeploymentStatus != v1beta1.JobManagerReady {
			return errorf("job %s, JobManager %s", got.Status.JobStatus.State, got.Status.JobManagerDeploymentStatus)
		}
		return nil
	})
	return fd
}

func create(t *testing.T, obj client.Object) {
	t.Helper()
	if err := fleet.Members[0].Client.Create(context.Background(), obj); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fleet.Members[0].Client.Delete(context.Background(), obj) })
}

// snapshot is a FlinkStateSnapshot of the FlinkDeployment fd.
func snapshot(fd *v1beta1.FlinkDeployment, name string, spec v1beta1.FlinkStateSnapshotSpec) *v1beta1.FlinkStateSnapshot {
	if spec.JobReference == nil {
		spec.JobReference = &v1beta1.JobReference{Kind: v1beta1.JobKindFlinkDeployment, Name: fd.Name}
	}
	return &v1beta1.FlinkStateSnapshot{ObjectMeta: metav1.ObjectMeta{Namespace: fd.Namespace, Name: name}, Spec: spec}
}

// waitSnapshot waits until the snapshot reaches state and returns it.
func waitSnapshot(t *testing.T, snap *v1beta1.FlinkStateSnapshot, state v1beta1.SnapshotState) *v1beta1.FlinkStateSnapshot {
	t.Helper()
	got := &v1beta1.FlinkStateSnapshot{}
	framework.Await(t, snap.Name+" "+string(state), func() error {
		if err := fleet.Members[0].Client.Get(context.Background(), client.ObjectKeyFromObject(snap), got); err != nil {
			return err
		}
		if got.Status.State != state {
			return errorf("status %+v", got.Status)
		}
		return nil
	})
	return got
}

func simJobs(fd *v1beta1.FlinkDeployment) []jobmanager.JobStatus {
	jm := sim.JobManager(memberName, fd.Namespace, fd.Name)
	if jm == nil {
		return nil
	}
	return jm.Jobs()
}

// TestSavepointSnapshotRestoresANewDeployment: a savepoint snapshot of a
// running FlinkDeployment completes with its path, taken once, in the
// directory it names; a new FlinkDeployment whose
// job.initialStateReference names the snapshot runs from that path, and
// one naming a snapshot of another namespace is refused.
func TestSavepointSnapshotRestoresANewDeployment(t *testing.T) {
	fd := runningDeployment(t, "snapshots", "source")
	snap := snapshot(fd, "sp", v1beta1.FlinkStateSnapshotSpec{Savepoint: &v1beta1.SavepointSpec{Path: "file:///flink-data/savepoints-custom", FormatType: v1beta1.SavepointFormatNative}})
	create(t, snap)
	got := waitSnapshot(t, snap, v1beta1.SnapshotCompleted)
	if !strings.HasPrefix(got.Status.Path, "file:///flink-data/savepoints-custom") || got.Status.ResultTimestamp == "" || got.Status.TriggerID == "" {
		t.Fatalf("completed snapshot status %+v: want the path in the directory asked for, a result time and the trigger id", got.Status)
	}
	jobs := simJobs(fd)
	if len(jobs) != 1 || jobs[0].SavepointTriggers != 1 || jobs[0].Savepoint == nil || jobs[0].Savepoint.Path != got.Status.Path {
		t.Fatalf("the job %+v: want one savepoint, at %s", jobs, got.Status.Path)
	}

	restored, err := examples.Named("basic-checkpoint-ha/basic-checkpoint-ha-example")
	if err != nil {
		t.Fatal(err)
	}
	restored.Namespace, restored.Name = fd.Namespace, "restored"
	restored.Spec.Job.InitialStateReference = &v1beta1.FlinkStateSnapshotReference{Name: snap.Name}
	create(t, restored)
	stranger := restored.DeepCopy()
	stranger.Name, stranger.ResourceVersion, stranger.UID = "stranger", "", ""
	stranger.Spec.Job.InitialStateReference = &v1beta1.FlinkStateSnapshotReference{Namespace: "another-team", Name: snap.Name}
	create(t, stranger)
	framework.Await(t, "a snapshot of another namespace refused", func() error {
		got := &v1beta1.FlinkDeployment{}
		if err := fleet.Members[0].Client.Get(context.Background(), client.ObjectKeyFromObject(stranger), got); err != nil {
			return err
		}
		if p := problem.Decode(got.Status.Error); p.Reason != problem.InvalidSpec || !strings.Contains(p.Message, "namespace") {
			return errorf("status.error %q", got.Status.Error)
		}
		return nil
	})
	if jobs := simJobs(stranger); len(jobs) != 0 {
		t.Errorf("a deployment naming another namespace's snapshot runs %+v", jobs)
	}
	framework.Await(t, "the new deployment runs from the snapshot", func() error {
		jobs := simJobs(restored)
		if len(jobs) == 0 || jobs[0].Restored == nil || jobs[0].Restored.Path != got.Status.Path {
			return errorf("jobs %+v", jobs)
		}
		return nil
	})
}

// TestCheckpointSnapshotCompletes: a checkpoint snapshot completes.
func TestCheckpointSnapshotCompletes(t *testing.T) {
	fd := runningDeployment(t, "snapshots", "checkpointed")
	snap := snapshot(fd, "cp", v1beta1.FlinkStateSnapshotSpec{Checkpoint: &v1beta1.CheckpointSpec{}})
	create(t, snap)
	got := waitSnapshot(t, snap, v1beta1.SnapshotCompleted)
	if got.Status.Failures != 0 || got.Status.Error != "" {
		t.Errorf("status %+v", got.Status)
	}
}

// TestCheckpointSnapshotNeedsFlink117: Flink before 1.17 cannot take a
// checkpoint on request (its REST API answers 404), so a checkpoint
// snapshot of its job fails at once, saying why, without asking Flink or
// trying again, whatever the backoff limit.
func TestCheckpointSnapshotNeedsFlink117(t *testing.T) {
	fd := runningDeploymentOf(t, "snapshots", "checkpointed-1-16", nil, func(fd *v1beta1.FlinkDeployment) {
		fd.Spec.Image, fd.Spec.FlinkVersion = "flink:1.16", "v1_16"
	})
	unlimited := int32(-1)
	snap := snapshot(fd, "cp-1-16", v1beta1.FlinkStateSnapshotSpec{BackoffLimit: &unlimited, Checkpoint: &v1beta1.CheckpointSpec{}})
	create(t, snap)
	got := waitSnapshot(t, snap, v1beta1.SnapshotFailed)
	if !strings.Contains(got.Status.Error, "Flink 1.16 cannot take a checkpoint on request") || got.Status.Failures != 0 {
		t.Errorf("status %+v", got.Status)
	}
	jobs := simJobs(fd)
	if len(jobs) != 1 || jobs[0].State != "RUNNING" {
		t.Fatalf("jobs %+v", jobs)
	}
	if n := sim.JobManager(memberName, fd.Namespace, fd.Name).CheckpointTriggerRequests(jobs[0].ID); n != 0 {
		t.Errorf("%d checkpoint triggers sent to Flink 1.16", n)
	}
}

// TestFailedSnapshotRetriesThenFails: with every savepoint failing, the
// snapshot is triggered backoffLimit more times, then FAILED with Flink's
// reason; the job keeps running.
func TestFailedSnapshotRetriesThenFails(t *testing.T) {
	fd := runningDeployment(t, "snapshots", "failing")
	sim.JobManager(memberName, fd.Namespace, fd.Name).SetFaults(jobmanager.Faults{SavepointFailure: "disk full"})
	limit := int32(2)
	snap := snapshot(fd, "doomed", v1beta1.FlinkStateSnapshotSpec{BackoffLimit: &limit, Savepoint: &v1beta1.SavepointSpec{}})
	create(t, snap)
	got := waitSnapshot(t, snap, v1beta1.SnapshotFailed)
	if got.Status.Failures != limit+1 || !strings.Contains(got.Status.Error, "disk full") || got.Status.ResultTimestamp == "" {
		t.Fatalf("failed snapshot status %+v: want %d failures with Flink's reason", got.Status, limit+1)
	}
	if jobs := simJobs(fd); len(jobs) != 1 || jobs[0].State != "RUNNING" || jobs[0].SavepointTriggers != int(limit+1) {
		t.Fatalf("the job %+v: want it running, with %d savepoint attempts", jobs, limit+1)
	}
}

// TestStalledSnapshotIsReported: a savepoint that Flink keeps in progress
// past the job's execution.checkpointing.timeout (which should have ended
// it) is reported in status.error and by a SnapshotStalled event while it
// stays IN_PROGRESS and followed: nothing is given up, nothing is silent.
func TestStalledSnapshotIsReported(t *testing.T) {
	fd := runningDeploymentWith(t, "snapshots", "stalling", map[string]string{"execution.checkpointing.timeout": "2 s"})
	sim.JobManager(memberName, fd.Namespace, fd.Name).SetFaults(jobmanager.Faults{SavepointDuration: time.Hour})
	snap := snapshot(fd, "stuck", v1beta1.FlinkStateSnapshotSpec{Savepoint: &v1beta1.SavepointSpec{}})
	create(t, snap)
	got := &v1beta1.FlinkStateSnapshot{}
	framework.Await(t, "the stalled savepoint reported", func() error {
		if err := fleet.Members[0].Client.Get(context.Background(), client.ObjectKeyFromObject(snap), got); err != nil {
			return err
		}
		if got.Status.State != v1beta1.SnapshotInProgress || !strings.Contains(got.Status.Error, "execution.checkpointing.timeout (2s)") {
			return errorf("status %+v", got.Status)
		}
		return nil
	})
	if got.Status.TriggerID == "" || got.Status.Failures != 0 {
		t.Fatalf("the stalled savepoint was given up: %+v", got.Status)
	}
	framework.Await(t, "a SnapshotStalled event", func() error {
		var events corev1.EventList
		if err := fleet.Members[0].Client.List(context.Background(), &events, client.InNamespace(snap.Namespace)); err != nil {
			return err
		}
		for _, e := range events.Items {
			if e.InvolvedObject.Name == snap.Name && e.Reason == "SnapshotStalled" && e.Type == corev1.EventTypeWarning {
				return nil
			}
		}
		return errorf("none among %d events", len(events.Items))
	})
}

// TestAbandonedAndInvalidSnapshots: a snapshot of a job that does not
// exist is ABANDONED, one that asks for both a savepoint and a checkpoint
// FAILED, each saying why.
func TestAbandonedAndInvalidSnapshots(t *testing.T) {
	ctx := context.Background()
	if err := fleet.Members[0].CreateNamespace(ctx, "orphans"); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	nowhere := &v1beta1.FlinkDeployment{ObjectMeta: metav1.ObjectMeta{Namespace: "orphans", Name: "nowhere"}}
	orphan := snapshot(nowhere, "orphan", v1beta1.FlinkStateSnapshotSpec{Savepoint: &v1beta1.SavepointSpec{}})
	both := snapshot(nowhere, "both", v1beta1.FlinkStateSnapshotSpec{Savepoint: &v1beta1.SavepointSpec{}, Checkpoint: &v1beta1.CheckpointSpec{}})
	create(t, orphan)
	create(t, both)
	if got := waitSnapshot(t, orphan, v1beta1.SnapshotAbandoned); !strings.Contains(got.Status.Error, "does not exist") {
		t.Errorf("abandoned snapshot says %q", got.Status.Error)
	}
	if got := waitSnapshot(t, both, v1beta1.SnapshotFailed); !strings.Contains(got.Status.Error, "exactly one") {
		t.Errorf("invalid snapshot says %q", got.Status.Error)
	}
}

// TestDeletingASnapshotDisposesOfIt: a savepoint snapshot with
// alreadyExists and disposeOnDelete is COMPLETED at its path, and deleting
// the snapshot asks the job's JobManager to dispose of it; one without
// disposeOnDelete is left alone. One whose files are gone already (Flink's
// disposal fails, FileNotFoundException) is as good as disposed of: its
// deletion completes, a SavepointGone event says so, and Flink is not
// asked again and again.
func TestDeletingASnapshotDisposesOfIt(t *testing.T) {
	ctx := context.Background()
	fd := runningDeployment(t, "snapshots", "disposer")
	const path = "file:///flink-data/savepoints/savepoint-98682a-21931bf10c39"
	const gonePath = "file:///flink-data/savepoints/savepoint-98682a-gone"
	sim.Storage().Write(path)
	sim.Storage().Write(path + "-kept")
	disposed := snapshot(fd, "disposed", v1beta1.FlinkStateSnapshotSpec{Savepoint: &v1beta1.SavepointSpec{AlreadyExists: true, DisposeOnDelete: true, Path: path}})
	kept := snapshot(fd, "kept", v1beta1.FlinkStateSnapshotSpec{Savepoint: &v1beta1.SavepointSpec{AlreadyExists: true, Path: path + "-kept"}})
	gone := snapshot(fd, "gone", v1beta1.FlinkStateSnapshotSpec{Savepoint: &v1beta1.SavepointSpec{AlreadyExists: true, DisposeOnDelete: true, Path: gonePath}})
	all := []*v1beta1.FlinkStateSnapshot{disposed, kept, gone}
	for _, snap := range all {
		create(t, snap)
	}
	for _, snap := range all {
		if got := waitSnapshot(t, snap, v1beta1.SnapshotCompleted); got.Status.Path != snap.Spec.Savepoint.Path {
			t.Fatalf("%s recorded %q", snap.Name, got.Status.Path)
		}
		if err := fleet.Members[0].Client.Delete(ctx, snap); err != nil {
			t.Fatal(err)
		}
	}
	for _, snap := range all {
		framework.Await(t, snap.Name+" gone", func() error {
			err := fleet.Members[0].Client.Get(ctx, client.ObjectKeyFromObject(snap), &v1beta1.FlinkStateSnapshot{})
			if !apierrors.IsNotFound(err) {
				return errorf("still there: %v", err)
			}
			return nil
		})
	}
	if got := sim.JobManager(memberName, fd.Namespace, fd.Name).Disposed(); len(got) != 1 || got[0] != path {
		t.Fatalf("disposals %v, want only %s", got, path)
	}
	if sim.Storage().Holds(path) || !sim.Storage().Holds(path+"-kept") {
		t.Fatalf("the disposed savepoint is still there, or the kept one is not")
	}
	framework.Await(t, "SavepointGone event", func() error {
		var evs eventsv1.EventList
		if err := fleet.Members[0].Client.List(ctx, &evs, client.InNamespace(fd.Namespace)); err != nil {
			return err
		}
		for _, e := range evs.Items {
			if e.Regarding.Name == gone.Name && e.Reason == "SavepointGone" && strings.Contains(e.Note, "Cannot find checkpoint or savepoint file/directory '"+gonePath+"'") {
				return nil
			}
		}
		return errorf("no SavepointGone event of %s among %d", gone.Name, len(evs.Items))
	})
}

// TestHubSavepointsAreRecordedAsSnapshots: a savepoint the hub takes
// itself (here for a savepointTriggerNonce) is also recorded as a
// FlinkStateSnapshot of the deployment (upstream's
// kubernetes.operator.snapshot.resource.enabled, on by default), which the
// snapshot controller completes at the savepoint's path.
func TestHubSavepointsAreRecordedAsSnapshots(t *testing.T) {
	ctx := context.Background()
	fd := runningDeployment(t, "snapshots", "recorded")
	if err := fleet.Members[0].Client.Patch(ctx, fd, client.RawPatch(types.MergePatchType, []byte(`{"spec":{"job":{"savepointTriggerNonce":1}}}`))); err != nil {
		t.Fatal(err)
	}
	framework.Await(t, "the manual savepoint recorded as a COMPLETED snapshot", func() error {
		got := &v1beta1.FlinkDeployment{}
		if err := fleet.Members[0].Client.Get(ctx, client.ObjectKeyFromObject(fd), got); err != nil {
			return err
		}
		info := got.Status.JobStatus.SavepointInfo
		if info == nil || info.LastSavepoint == nil {
			return errorf("no savepoint yet")
		}
		var snaps v1beta1.FlinkStateSnapshotList
		if err := fleet.Members[0].Client.List(ctx, &snaps, client.InNamespace(fd.Namespace), client.MatchingLabels{"flink-hub.io/job": fd.Name}); err != nil {
			return err
		}
		if len(snaps.Items) != 1 {
			return errorf("%d snapshots of %s", len(snaps.Items), fd.Name)
		}
		s := snaps.Items[0]
		if s.Status.State != v1beta1.SnapshotCompleted || s.Status.Path != info.LastSavepoint.Location || s.Labels["flink-hub.io/trigger"] != "manual" {
			return errorf("snapshot %s: labels %v, status %+v; want COMPLETED at %s", s.Name, s.Labels, s.Status, info.LastSavepoint.Location)
		}
		return nil
	})
}
