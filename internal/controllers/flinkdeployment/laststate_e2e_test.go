package flinkdeployment_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/e2e/flinksim"
	"github.com/flink-hub/flink-hub/e2e/flinksim/jobmanager"
	"github.com/flink-hub/flink-hub/internal/controllers/flinkdeployment"
	"github.com/flink-hub/flink-hub/internal/problem"
)

// haNoSavepointDir is the HA example's configuration without a savepoint
// directory: no savepoint can be taken of the job (the tests
// also drop the manual savepoint nonce, which needs one).
const haNoSavepointDir = `{"taskmanager.numberOfTaskSlots": 2, "state.checkpoints.dir": "file:///flink-data/checkpoints", ` +
	`"high-availability.type": "kubernetes", "high-availability.storageDir": "file:///flink-data/ha"}`

// upgradeToParallelism3 patches fd's parallelism to 3 and waits until the
// upgrade is deployed and runs, with no problem left in status.error.
func upgradeToParallelism3(t *testing.T, ctx context.Context, fd *v1beta1.FlinkDeployment) *v1beta1.FlinkDeployment {
	t.Helper()
	patchSpec(t, ctx, fd, `{"spec":{"job":{"parallelism":3}}}`)
	return waitFor(t, ctx, fd, 2*time.Minute, "upgraded", func(fd *v1beta1.FlinkDeployment) bool {
		return running(fd) && fd.Status.ObservedGeneration == fd.Generation && fd.Status.Error == "" &&
			strings.Contains(fd.Status.ReconciliationStatus.LastReconciledSpec, `"parallelism":3`)
	})
}

// TestLastStateOfAJobThatNeverCheckpointed: a last-state upgrade by
// cancellation of a job that never completed a checkpoint and started
// from no savepoint (Flink reports no checkpoint, savepoint or restore of
// it) starts the new job empty, as upstream does, with one
// UpgradeWithoutState Warning event saying so, instead of stopping at a
// manual restore. Without HA the cancellation is always the path; with HA
// whose metadata holds no checkpoint and no savepoint directory to take a
// savepoint, as upstream, too.
func TestLastStateOfAJobThatNeverCheckpointed(t *testing.T) {
	cases := []struct {
		name string
		conf string
	}{
		{"without HA", `{"taskmanager.numberOfTaskSlots": 2, "state.savepoints.dir": "file:///flink-data/savepoints", "state.checkpoints.dir": "file:///flink-data/checkpoints"}`},
		{"with HA, no savepoint directory", haNoSavepointDir},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
			defer cancel()
			fd := haExample(t, fmt.Sprintf("never-checkpointed-%d", i), v1beta1.UpgradeModeLastState)
			fd.Spec.FlinkConfiguration.Raw = []byte(tc.conf)
			fd.Spec.Job.SavepointTriggerNonce = nil
			// Every checkpoint fails, from the job's start.
			if err := sim.SetFaults(memberName, fd.Namespace, fd.Name, flinksim.ClusterFaults{JobManager: jobmanager.Faults{CheckpointFailure: "storage unreachable"}}); err != nil {
				t.Fatal(err)
			}
			create(t, ctx, fd)
			waitFor(t, ctx, fd, 2*time.Minute, "running", running)
			got := upgradeToParallelism3(t, ctx, fd)
			job := simJob(fd)
			if job == nil || job.Spec.Parallelism != 3 || job.Spec.Restore != nil {
				t.Fatalf("the upgraded job must start empty: %+v", job)
			}
			if evs := eventsOf(ctx, fd, flinkdeployment.ReasonUpgradeWithoutState); len(evs) != 1 || evs[0].Type != corev1.EventTypeWarning {
				t.Errorf("%s events %+v; want one Warning", flinkdeployment.ReasonUpgradeWithoutState, evs)
			}
			if !hasEvent(ctx, fd, "CancellingJob") {
				t.Error("no CancellingJob event")
			}
			if hasEvent(ctx, fd, "SavepointError") {
				t.Error("a savepoint was tried")
			}
			if got.Status.JobStatus.UpgradeSavepointPath != "" {
				t.Errorf("upgradeSavepointPath %q", got.Status.JobStatus.UpgradeSavepointPath)
			}
		})
	}
}

// TestLastStateWithoutHAMetadataNorSavepointDir: a running last-state
// job with HA whose HA metadata is gone (the ConfigMaps deleted), with no
// savepoint directory, is upgraded as upstream does: cancelled and started
// from the latest checkpoint Flink reports. It used to try a savepoint
// that could not be written, every reconcile interval, forever
// (SavepointFailed, the job running, the upgrade never done).
func TestLastStateWithoutHAMetadataNorSavepointDir(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	fd := haExample(t, "no-ha-metadata-no-sp-dir", v1beta1.UpgradeModeLastState)
	fd.Spec.FlinkConfiguration.Raw = []byte(haNoSavepointDir)
	fd.Spec.Job.SavepointTriggerNonce = nil
	fd = deployRunning(t, ctx, fd)
	old := dropHAMetadata(t, ctx, fd)
	latest := old.Checkpoints[len(old.Checkpoints)-1]
	got := upgradeToParallelism3(t, ctx, fd)
	job := simJob(fd)
	if job == nil || job.Spec.Parallelism != 3 || job.Spec.Restore == nil || job.Spec.Restore.Path != latest.Path {
		t.Fatalf("the upgraded job must start from the cancelled job's latest checkpoint %s: %+v, restore %+v", latest.Path, job, job.Spec.Restore)
	}
	if got.Status.JobStatus.UpgradeSavepointPath != latest.Path {
		t.Errorf("upgradeSavepointPath %q, want %q", got.Status.JobStatus.UpgradeSavepointPath, latest.Path)
	}
	if hasEvent(ctx, fd, "SavepointError") || failure(got).Reason == problem.SavepointFailed {
		t.Error("a savepoint was tried without a savepoint directory")
	}
	if hasEvent(ctx, fd, flinkdeployment.ReasonUpgradeWithoutState) {
		t.Error("a job with a checkpoint was said to start empty")
	}
}
