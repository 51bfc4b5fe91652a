package flinksessionjob_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	eventsv1 "k8s.io/api/events/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/e2e/flinksim"
	"github.com/flink-hub/flink-hub/e2e/flinksim/jobmanager"
	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/controllers/flinkdeployment"
	"github.com/flink-hub/flink-hub/internal/controllers/flinksessionjob"
	"github.com/flink-hub/flink-hub/internal/problem"
)

// lastStateJob creates a session cluster in ns, with faults injected into
// its JobManager, and a last-state session job on it with no savepoint
// directory anywhere (job, session cluster, defaults), and waits until
// the job runs; it returns both and the job's id.
func lastStateJob(t *testing.T, ctx context.Context, ns string, faults jobmanager.Faults) (*v1beta1.FlinkDeployment, *v1beta1.FlinkSessionJob, string) {
	t.Helper()
	return faultyJob(t, ctx, ns, v1beta1.UpgradeModeLastState, faults)
}

// faultyJob is lastStateJob in upgrade mode mode.
func faultyJob(t *testing.T, ctx context.Context, ns string, mode v1beta1.UpgradeMode, faults jobmanager.Faults) (*v1beta1.FlinkDeployment, *v1beta1.FlinkSessionJob, string) {
	t.Helper()
	fd := sessionCluster(t, ctx, ns)
	if err := sim.SetFaults(memberName, fd.Namespace, fd.Name, flinksim.ClusterFaults{JobManager: faults}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.SetFaults(memberName, fd.Namespace, fd.Name, flinksim.ClusterFaults{}) })
	job := upstreamJobs(t, ns, framework.NewArtifacts(t))[0]
	job.Spec.Job.UpgradeMode = mode
	create(t, ctx, job)
	return fd, job, waitJob(t, job, "RUNNING", runningJob).Status.JobStatus.JobID
}

// eventsOf lists obj's events of reason.
func eventsOf(t *testing.T, obj client.Object, reason string) []eventsv1.Event {
	t.Helper()
	var evs eventsv1.EventList
	if err := fleet.Members[0].Client.List(context.Background(), &evs, client.InNamespace(obj.GetNamespace())); err != nil {
		t.Fatal(err)
	}
	var out []eventsv1.Event
	for _, e := range evs.Items {
		if e.Regarding.Name == obj.GetName() && e.Reason == reason {
			out = append(out, e)
		}
	}
	return out
}

// awaitCheckpoint waits until the session cluster fd completed a
// checkpoint of job id.
func awaitCheckpoint(t *testing.T, fd *v1beta1.FlinkDeployment, id string) {
	t.Helper()
	framework.Await(t, "a checkpoint of "+id, func() error {
		if sj := simJob(fd, id); sj == nil || len(sj.Checkpoints) == 0 {
			return fmt.Errorf("job %+v, no checkpoint", sj)
		}
		return nil
	})
}

// lastCheckpoint is the path of the newest checkpoint the session
// cluster fd completed of job id, once Flink shows it cancelled.
func lastCheckpoint(t *testing.T, fd *v1beta1.FlinkDeployment, id string) string {
	t.Helper()
	awaitCancelled(t, fd, id)
	old := simJob(fd, id)
	if len(old.Checkpoints) == 0 {
		t.Fatalf("job %s has no checkpoint", id)
	}
	return old.Checkpoints[len(old.Checkpoints)-1].Path
}

// TestLastStateSessionJobUpgradesByCancellation: a last-state session job
// with no savepoint directory is upgraded, suspended and resumed as
// upstream does (allowLastStateCancel is true for session jobs): the job
// is cancelled and the new one runs from the latest checkpoint Flink
// reports for the cancelled job, recorded in upgradeSavepointPath. The
// hub used to try a savepoint that could not be written, every reconcile
// interval, forever (SavepointFailed, the job running, the upgrade never
// done).
func TestLastStateSessionJobUpgradesByCancellation(t *testing.T) {
	ctx := context.Background()
	fd, job, first := lastStateJob(t, ctx, "laststate-cancel", jobmanager.Faults{})
	awaitCheckpoint(t, fd, first)

	patchJob(t, job, `{"spec":{"job":{"parallelism":3}}}`)
	upgraded := waitJob(t, job, "upgraded", func(j *v1beta1.FlinkSessionJob) bool {
		return runningJob(j) && j.Status.JobStatus.JobID != first && j.Status.ObservedGeneration == j.Generation
	})
	latest := lastCheckpoint(t, fd, first)
	if sj := simJob(fd, upgraded.Status.JobStatus.JobID); sj == nil || sj.Spec.Parallelism != 3 || sj.Spec.Restore == nil || sj.Spec.Restore.Path != latest {
		t.Fatalf("upgraded job %+v, want it restored from the cancelled job's latest checkpoint %s", sj, latest)
	}
	if got := upgraded.Status.JobStatus.UpgradeSavepointPath; got != latest {
		t.Errorf("upgradeSavepointPath %q, want %q", got, latest)
	}
	if len(eventsOf(t, job, "CancellingJob")) == 0 {
		t.Error("no CancellingJob event")
	}
	if evs := eventsOf(t, job, "SavepointError"); len(evs) > 0 {
		t.Errorf("a savepoint was tried without a savepoint directory: %+v", evs)
	}

	second := upgraded.Status.JobStatus.JobID
	awaitCheckpoint(t, fd, second)
	patchJob(t, job, `{"spec":{"job":{"state":"suspended"}}}`)
	suspended := waitJob(t, job, "SUSPENDED", func(j *v1beta1.FlinkSessionJob) bool { return j.Status.LifecycleState == v1beta1.LifecycleSuspended })
	if want := lastCheckpoint(t, fd, second); suspended.Status.JobStatus.UpgradeSavepointPath != want {
		t.Fatalf("suspended with upgradeSavepointPath %q, want the cancelled job's latest checkpoint %s", suspended.Status.JobStatus.UpgradeSavepointPath, want)
	}
	patchJob(t, job, `{"spec":{"job":{"state":"running"}}}`)
	resumed := waitJob(t, job, "resumed", func(j *v1beta1.FlinkSessionJob) bool {
		return runningJob(j) && j.Status.JobStatus.JobID != second
	})
	if sj := simJob(fd, resumed.Status.JobStatus.JobID); sj == nil || sj.Spec.Restore == nil || sj.Spec.Restore.Path != suspended.Status.JobStatus.UpgradeSavepointPath {
		t.Fatalf("resumed job %+v, want it restored from %s", sj, suspended.Status.JobStatus.UpgradeSavepointPath)
	}
}

// TestLastStateSessionJobWithoutCheckpoint: a last-state upgrade of a
// session job of which Flink reports no checkpoint, savepoint or restore
// starts the new job empty, as upstream does, with one
// UpgradeWithoutState Warning event saying so; one whose latest
// checkpoint has no external path stops at a manual restore in
// status.error, the old job's state untouched and nothing run.
func TestLastStateSessionJobWithoutCheckpoint(t *testing.T) {
	ctx := context.Background()
	t.Run("never checkpointed", func(t *testing.T) {
		fd, job, first := lastStateJob(t, ctx, "laststate-empty", jobmanager.Faults{CheckpointFailure: "storage unreachable"})
		patchJob(t, job, `{"spec":{"job":{"parallelism":3}}}`)
		upgraded := waitJob(t, job, "upgraded", func(j *v1beta1.FlinkSessionJob) bool {
			return runningJob(j) && j.Status.JobStatus.JobID != first && j.Status.ObservedGeneration == j.Generation
		})
		if sj := simJob(fd, upgraded.Status.JobStatus.JobID); sj == nil || sj.Spec.Parallelism != 3 || sj.Spec.Restore != nil {
			t.Fatalf("the upgraded job must start empty: %+v", sj)
		}
		if old := simJob(fd, first); old == nil || old.State != "CANCELED" {
			t.Errorf("the old job: %+v, want CANCELED", old)
		}
		if evs := eventsOf(t, job, flinkdeployment.ReasonUpgradeWithoutState); len(evs) != 1 || evs[0].Type != "Warning" {
			t.Errorf("%s events %+v; want one Warning", flinkdeployment.ReasonUpgradeWithoutState, evs)
		}
	})
	t.Run("not externally addressable", func(t *testing.T) {
		fd, job, first := lastStateJob(t, ctx, "laststate-manual", jobmanager.Faults{CheckpointsNotAddressable: true})
		awaitCheckpoint(t, fd, first)
		patchJob(t, job, `{"spec":{"job":{"parallelism":3}}}`)
		got := waitJob(t, job, "manual restore", func(j *v1beta1.FlinkSessionJob) bool {
			return problem.Decode(j.Status.Error).Is(problem.ManualRestoreRequired)
		})
		if msg := problem.Message(got.Status.Error); !strings.Contains(msg, "not externally addressable") {
			t.Errorf("status.error %q does not say why", msg)
		}
		js := got.Status.JobStatus
		if js.JobID != first || js.State != v1beta1.JobCanceled || got.Status.ReconciliationStatus.State != v1beta1.ReconciliationUpgrading ||
			strings.Contains(got.Status.ReconciliationStatus.LastReconciledSpec, `"parallelism":3`) {
			t.Errorf("job state changed: %+v, reconciliation %+v", js, got.Status.ReconciliationStatus)
		}
		if n := len(sim.JobManager(memberName, fd.Namespace, fd.Name).Jobs()); n != 1 {
			t.Errorf("%d jobs on the session cluster, want only the cancelled one", n)
		}
		if evs := eventsOf(t, job, flinkdeployment.ReasonUpgradeWithoutState); len(evs) != 0 {
			t.Errorf("a job with a checkpoint was said to start empty: %s", fmt.Sprint(evs))
		}
	})
}

// TestLastStateSessionJobWithStaleCheckpoint: with
// last-state.max.allowed.checkpoint.age, a running session job whose
// latest checkpoint is older than that (here: none completes) and that
// started before it is stopped with a savepoint instead of cancelled, as
// upstream's getUpgradeModeBasedOnStateAge decides (the validation asks
// for a savepoint directory with the setting); the new job runs from it.
func TestLastStateSessionJobWithStaleCheckpoint(t *testing.T) {
	ctx := context.Background()
	fd := sessionCluster(t, ctx, "laststate-stale")
	if err := sim.SetFaults(memberName, fd.Namespace, fd.Name, flinksim.ClusterFaults{JobManager: jobmanager.Faults{CheckpointFailure: "storage unreachable"}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.SetFaults(memberName, fd.Namespace, fd.Name, flinksim.ClusterFaults{}) })
	job := upstreamJobs(t, "laststate-stale", framework.NewArtifacts(t))[0]
	job.Spec.Job.UpgradeMode = v1beta1.UpgradeModeLastState
	job.Spec.FlinkConfiguration = &apiextensionsv1.JSON{Raw: []byte(`{"state.savepoints.dir":"file:///flink-data/savepoints",
		"kubernetes.operator.job.upgrade.last-state.max.allowed.checkpoint.age":"1 ms"}`)}
	create(t, ctx, job)
	first := waitJob(t, job, "RUNNING", runningJob).Status.JobStatus.JobID
	patchJob(t, job, `{"spec":{"job":{"parallelism":3}}}`)
	upgraded := waitJob(t, job, "upgraded", func(j *v1beta1.FlinkSessionJob) bool {
		return runningJob(j) && j.Status.JobStatus.JobID != first && j.Status.ObservedGeneration == j.Generation
	})
	old := simJob(fd, first)
	if old == nil || old.State != "FINISHED" || old.Savepoint == nil {
		t.Fatalf("the old job %+v, want it stopped with a savepoint", old)
	}
	if sj := simJob(fd, upgraded.Status.JobStatus.JobID); sj == nil || sj.Spec.Restore == nil || sj.Spec.Restore.Path != old.Savepoint.Path {
		t.Fatalf("upgraded job %+v, want it restored from the savepoint %s", sj, old.Savepoint.Path)
	}
	if len(eventsOf(t, job, "CancellingJob")) != 0 {
		t.Error("the job was cancelled with a stale checkpoint")
	}
}

// failedAfterSavepoint runs a session job in ns in upgrade mode mode with
// a savepoint directory, takes a manual savepoint, waits for a checkpoint
// completed after it, and fails the job for good. It returns the session
// cluster, the job (FAILED), the failed job's id, the savepoint's path
// and the path of the failed job's latest checkpoint.
func failedAfterSavepoint(t *testing.T, ctx context.Context, ns string, mode v1beta1.UpgradeMode) (fd *v1beta1.FlinkDeployment, job *v1beta1.FlinkSessionJob, id, savepoint, checkpoint string) {
	t.Helper()
	fd, job, id = runningJobWith(t, ctx, ns, mode, `{"state.savepoints.dir":"file:///flink-data/savepoints"}`)
	patchJob(t, job, `{"spec":{"job":{"savepointTriggerNonce":1}}}`)
	savepoint = waitJob(t, job, "the manual savepoint", func(j *v1beta1.FlinkSessionJob) bool {
		info := j.Status.JobStatus.SavepointInfo
		return info != nil && info.LastSavepoint != nil && info.LastSavepoint.Location != "" && info.TriggerID == ""
	}).Status.JobStatus.SavepointInfo.LastSavepoint.Location
	framework.Await(t, "a checkpoint after the savepoint", func() error {
		sj := simJob(fd, id)
		if sj == nil || sj.Savepoint == nil || sj.Savepoint.Path != savepoint || len(sj.Checkpoints) == 0 || sj.Checkpoints[len(sj.Checkpoints)-1].ID < sj.Savepoint.ID {
			return fmt.Errorf("job %+v, no checkpoint after savepoint %s", sj, savepoint)
		}
		return nil
	})
	jm := sim.JobManager(memberName, fd.Namespace, fd.Name)
	if err := jm.FailJob(id, "java.lang.IllegalStateException: bad record", true); err != nil {
		t.Fatal(err)
	}
	waitJob(t, job, "FAILED", func(j *v1beta1.FlinkSessionJob) bool { return j.Status.JobStatus.State == v1beta1.JobFailed })
	sj := simJob(fd, id)
	if sj == nil || sj.State != "FAILED" {
		t.Fatalf("job %+v, want FAILED", sj)
	}
	return fd, job, id, savepoint, sj.Checkpoints[len(sj.Checkpoints)-1].Path
}

// TestStatefulUpgradeOfAFailedSessionJob: a last-state or savepoint
// upgrade of a session job whose job FAILED starts, as upstream
// (SnapshotObserver.observeLatestCheckpoint reads every globally terminal
// job's latest checkpoint whatever the upgrade mode, and
// AbstractJobReconciler.getJobUpgrade restores a terminal job from it
// before it looks at the mode), from the failed job's latest checkpoint
// when that is newer than its newest savepoint: the hub used to start it
// from the savepoint, losing the state checkpointed since (last-state
// until the last change, savepoint mode until this one). A failed job the
// session cluster forgot (its checkpoints unreadable) starts from the
// newest savepoint recorded, a Warning event saying so (savepoint mode
// used to say nothing). The savepoint stays recorded either way.
func TestStatefulUpgradeOfAFailedSessionJob(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name      string
		ns        string
		mode      v1beta1.UpgradeMode
		forget    bool
		wantEvent string
	}{
		{"last-state, known to Flink: its latest checkpoint", "laststate-failed", v1beta1.UpgradeModeLastState, false, "UpgradeFromCheckpoint"},
		{"last-state, forgotten by Flink: the newest savepoint", "laststate-failed-gone", v1beta1.UpgradeModeLastState, true, flinksessionjob.ReasonLatestStateUnknown},
		{"savepoint, known to Flink: its latest checkpoint", "savepoint-failed", v1beta1.UpgradeModeSavepoint, false, "UpgradeFromCheckpoint"},
		{"savepoint, forgotten by Flink: the newest savepoint", "savepoint-failed-gone", v1beta1.UpgradeModeSavepoint, true, flinksessionjob.ReasonLatestStateUnknown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fd, job, failed, savepoint, checkpoint := failedAfterSavepoint(t, ctx, tc.ns, tc.mode)
			want := checkpoint
			if tc.forget {
				sim.JobManager(memberName, fd.Namespace, fd.Name).ExpireJobs()
				want = savepoint
			}
			patchJob(t, job, `{"spec":{"job":{"parallelism":3}}}`)
			upgraded := waitJob(t, job, "upgraded", func(j *v1beta1.FlinkSessionJob) bool {
				return runningJob(j) && j.Status.JobStatus.JobID != failed && j.Status.ObservedGeneration == j.Generation
			})
			if sj := simJob(fd, upgraded.Status.JobStatus.JobID); sj == nil || sj.Spec.Parallelism != 3 || restoreOf(sj) != want {
				t.Fatalf("upgraded job %+v run from %s, want %s (savepoint %s, checkpoint %s)", sj, restoreOf(sj), want, savepoint, checkpoint)
			}
			js := upgraded.Status.JobStatus
			if js.UpgradeSavepointPath != want {
				t.Errorf("upgradeSavepointPath %q, want %q", js.UpgradeSavepointPath, want)
			}
			if js.SavepointInfo == nil || js.SavepointInfo.LastSavepoint == nil || js.SavepointInfo.LastSavepoint.Location != savepoint {
				t.Errorf("the savepoint %s is no longer recorded: %+v", savepoint, js.SavepointInfo)
			}
			awaitEvent(t, job, tc.wantEvent, want)
		})
	}
}

// TestSuspendOfAFailedSavepointSessionJob: a suspend of a savepoint-mode
// session job whose job FAILED records, as upstream (the observer's
// latest checkpoint of the terminal job is upgradeSavepointPath, and the
// suspend of a terminal job takes no savepoint and keeps it), the failed
// job's newest state, here a checkpoint completed after its savepoint,
// and the resume runs from it. The hub used to record the path the job
// had started from (none here), so the resume started it empty.
func TestSuspendOfAFailedSavepointSessionJob(t *testing.T) {
	ctx := context.Background()
	fd, job, failed, savepoint, checkpoint := failedAfterSavepoint(t, ctx, "savepoint-failed-suspend", v1beta1.UpgradeModeSavepoint)
	patchJob(t, job, `{"spec":{"job":{"state":"suspended"}}}`)
	suspended := waitJob(t, job, "SUSPENDED", func(j *v1beta1.FlinkSessionJob) bool { return j.Status.LifecycleState == v1beta1.LifecycleSuspended })
	if got := suspended.Status.JobStatus.UpgradeSavepointPath; got != checkpoint {
		t.Fatalf("suspended with upgradeSavepointPath %q, want the failed job's latest checkpoint %s (savepoint %s)", got, checkpoint, savepoint)
	}
	patchJob(t, job, `{"spec":{"job":{"state":"running"}}}`)
	resumed := waitJob(t, job, "resumed", func(j *v1beta1.FlinkSessionJob) bool {
		return runningJob(j) && j.Status.JobStatus.JobID != failed
	})
	if sj := simJob(fd, resumed.Status.JobStatus.JobID); restoreOf(sj) != checkpoint {
		t.Fatalf("resumed job %+v run from %q, want %s", sj, restoreOf(sj), checkpoint)
	}
	if info := resumed.Status.JobStatus.SavepointInfo; info == nil || info.LastSavepoint == nil || info.LastSavepoint.Location != savepoint {
		t.Errorf("the savepoint %s is no longer recorded: %+v", savepoint, info)
	}
}

// TestSavepointUpgradeOfAFailedSessionJobWithoutState: a savepoint-mode
// upgrade of a session job whose job FAILED with no checkpoint, savepoint
// or restore, Flink's or recorded, starts the new job empty with one
// UpgradeWithoutState Warning event, as upstream (getJobUpgrade restores a
// terminal job from what the status holds, none here:
// SnapshotUtils.lastSavepointKnown is true without a path). The hub used
// to wait as UpgradeBlocked until the user changed the upgrade mode.
func TestSavepointUpgradeOfAFailedSessionJobWithoutState(t *testing.T) {
	ctx := context.Background()
	fd, job, first := faultyJob(t, ctx, "savepoint-failed-empty", v1beta1.UpgradeModeSavepoint, jobmanager.Faults{CheckpointFailure: "storage unreachable"})
	if err := sim.JobManager(memberName, fd.Namespace, fd.Name).FailJob(first, "java.lang.IllegalStateException: bad record", true); err != nil {
		t.Fatal(err)
	}
	waitJob(t, job, "FAILED", func(j *v1beta1.FlinkSessionJob) bool { return j.Status.JobStatus.State == v1beta1.JobFailed })
	patchJob(t, job, `{"spec":{"job":{"parallelism":3}}}`)
	upgraded := waitJob(t, job, "upgraded", func(j *v1beta1.FlinkSessionJob) bool {
		return runningJob(j) && j.Status.JobStatus.JobID != first && j.Status.ObservedGeneration == j.Generation
	})
	if sj := simJob(fd, upgraded.Status.JobStatus.JobID); sj == nil || sj.Spec.Parallelism != 3 || sj.Spec.Restore != nil {
		t.Fatalf("the upgraded job must start empty: %+v", sj)
	}
	if evs := eventsOf(t, job, flinkdeployment.ReasonUpgradeWithoutState); len(evs) != 1 || evs[0].Type != "Warning" || !strings.Contains(evs[0].Note, "FAILED") {
		t.Errorf("%s events %+v; want one Warning naming the FAILED job", flinkdeployment.ReasonUpgradeWithoutState, evs)
	}
}

// restoreOf is the path job was run from, "" for none.
func restoreOf(job *jobmanager.JobStatus) string {
	if job == nil || job.Spec.Restore == nil {
		return ""
	}
	return job.Spec.Restore.Path
}

// TestEndedJobWithoutCheckpointStatistics: an ended job Flink keeps no
// checkpoint statistics of (404 "Checkpointing has not been enabled.", as
// for a batch job) is upgraded, in last-state or savepoint mode, as one
// of which Flink reports no checkpoint (upstream's getLastCheckpoint reads
// that answer as none): from the newest savepoint recorded, an
// UpgradeFromSavepoint event saying so. The hub took the 404 for an error
// and tried again at every reconcile, the upgrade never done.
func TestEndedJobWithoutCheckpointStatistics(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		ns   string
		mode v1beta1.UpgradeMode
	}{
		{"laststate-nostats", v1beta1.UpgradeModeLastState},
		{"savepoint-nostats", v1beta1.UpgradeModeSavepoint},
	} {
		t.Run(string(tc.mode), func(t *testing.T) {
			fd, job, failed, savepoint, _ := failedAfterSavepoint(t, ctx, tc.ns, tc.mode)
			if err := sim.SetFaults(memberName, fd.Namespace, fd.Name, flinksim.ClusterFaults{JobManager: jobmanager.Faults{NoCheckpointStatistics: true}}); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = sim.SetFaults(memberName, fd.Namespace, fd.Name, flinksim.ClusterFaults{}) })
			patchJob(t, job, `{"spec":{"job":{"parallelism":3}}}`)
			upgraded := waitJob(t, job, "upgraded", func(j *v1beta1.FlinkSessionJob) bool {
				return runningJob(j) && j.Status.JobStatus.JobID != failed && j.Status.ObservedGeneration == j.Generation
			})
			if sj := simJob(fd, upgraded.Status.JobStatus.JobID); sj == nil || sj.Spec.Parallelism != 3 || restoreOf(sj) != savepoint {
				t.Fatalf("upgraded job %+v run from %q, want the savepoint %s", sj, restoreOf(sj), savepoint)
			}
			awaitEvent(t, job, "UpgradeFromSavepoint", savepoint)
		})
	}
}
