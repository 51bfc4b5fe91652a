package flinkdeployment_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/e2e/flinksim/jobmanager"
	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/controllers/flinkdeployment"
	"github.com/flink-hub/flink-hub/internal/controllers/flinkdeployment/plan"
)

// endedAfterSavepoint deploys fd (the HA example), takes a manual
// savepoint, waits for a checkpoint completed after it, and ends the job:
// FAILED for good, or FINISHED. It returns fd (the job ended), the
// savepoint's path and the path of the ended job's latest checkpoint.
func endedAfterSavepoint(t *testing.T, ctx context.Context, fd *v1beta1.FlinkDeployment, end v1beta1.JobStatusState) (ended *v1beta1.FlinkDeployment, savepoint, checkpoint string) {
	t.Helper()
	fd, _ = deployAndPatch(t, ctx, fd, `{"spec":{"job":{"savepointTriggerNonce":1}}}`)
	savepoint = waitFor(t, ctx, fd, time.Minute, "a manual savepoint", func(fd *v1beta1.FlinkDeployment) bool {
		info := fd.Status.JobStatus.SavepointInfo
		return info != nil && info.LastSavepoint != nil && info.LastSavepoint.Location != "" && info.TriggerID == ""
	}).Status.JobStatus.SavepointInfo.LastSavepoint.Location
	framework.Await(t, "a checkpoint after the savepoint", func() error {
		job := simJob(fd)
		if job == nil || job.Savepoint == nil || job.Savepoint.Path != savepoint || len(job.Checkpoints) == 0 || job.Checkpoints[len(job.Checkpoints)-1].ID < job.Savepoint.ID {
			return fmt.Errorf("job %+v, no checkpoint after savepoint %s", job, savepoint)
		}
		return nil
	})
	jm := sim.JobManager(memberName, fd.Namespace, fd.Name)
	id := simJob(fd).ID
	var err error
	if end == v1beta1.JobFailed {
		err = jm.FailJob(id, "java.lang.IllegalStateException: bad record", true)
	} else {
		err = jm.FinishJob(id)
	}
	if err != nil {
		t.Fatal(err)
	}
	// An ending job completes no checkpoint: what it retained is final
	// (read now: its JobManager may be shut down soon after it ended).
	job := simJob(fd)
	if job == nil || job.ID != id || len(job.Checkpoints) == 0 {
		t.Fatalf("job %+v, want %s with checkpoints", job, id)
	}
	waitFor(t, ctx, fd, time.Minute, string(end), func(fd *v1beta1.FlinkDeployment) bool { return fd.Status.JobStatus.State == end })
	return fd, savepoint, job.Checkpoints[len(job.Checkpoints)-1].Path
}

// TestUpgradeOfAnEndedJobStartsFromItsLatestCheckpoint: a stateful
// upgrade (last-state or savepoint) of an application whose job FAILED
// or FINISHED starts the new job from the ended job's latest checkpoint
// when that is newer than its newest savepoint, as upstream
// (SnapshotObserver.observeLatestCheckpoint records a globally terminal
// job's latest checkpoint as upgradeSavepointPath while the JobManager
// answers, AbstractJobReconciler.getJobUpgrade restores from it when
// there is no HA metadata, which Flink dropped with the ended job): with
// its JobManager still there, and after the JobManager was shut down by
// kubernetes.operator.jm-deployment.shutdown-ttl (3 s here), taking
// Flink's checkpoint statistics with it (the hub keeps what Flink
// reported of them before). The hub used to start it from the savepoint,
// losing the state checkpointed since (until 2026-12-07 also after the
// shutdown). The savepoint stays recorded.
func TestUpgradeOfAnEndedJobStartsFromItsLatestCheckpoint(t *testing.T) {
	for i, tc := range []struct {
		mode     v1beta1.UpgradeMode
		end      v1beta1.JobStatusState
		shutDown bool
	}{
		{v1beta1.UpgradeModeLastState, v1beta1.JobFailed, false},
		{v1beta1.UpgradeModeLastState, v1beta1.JobFinished, false},
		{v1beta1.UpgradeModeSavepoint, v1beta1.JobFailed, false},
		{v1beta1.UpgradeModeSavepoint, v1beta1.JobFinished, false},
		{v1beta1.UpgradeModeLastState, v1beta1.JobFailed, true},
		{v1beta1.UpgradeModeSavepoint, v1beta1.JobFinished, true},
	} {
		name := fmt.Sprintf("%s %s", tc.mode, tc.end)
		if tc.shutDown {
			name += " after its JobManager shut down"
		}
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
			defer cancel()
			fd := haExample(t, fmt.Sprintf("ended-%d", i), tc.mode)
			if tc.shutDown {
				fd = withSettings(fd, `"kubernetes.operator.jm-deployment.shutdown-ttl":"3 s"`)
			}
			fd, savepoint, checkpoint := endedAfterSavepoint(t, ctx, fd, tc.end)
			if tc.shutDown {
				awaitShutDown(t, ctx, fd, tc.end)
			}
			upgradedFromCheckpoint(t, ctx, fd, tc.end, savepoint, checkpoint)
		})
	}
}

// TestEndedJobExpiredFromTheJobStoreIsShutDown: Flink drops an ended job
// from its REST API jobstore.expiration-time after it ended (1 h by
// default), well before kubernetes.operator.jm-deployment.shutdown-ttl (1
// day by default). The job stays FINISHED, as upstream keeps it, and its
// JobManager is still shut down after the TTL; it used to turn
// RECONCILING, read as a job not started yet, and the JobManager stayed
// up for good.
func TestEndedJobExpiredFromTheJobStoreIsShutDown(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	fd := withSettings(haExample(t, "expired-ttl", v1beta1.UpgradeModeLastState), `"kubernetes.operator.jm-deployment.shutdown-ttl":"15 s"`)
	fd = deployRunning(t, ctx, fd)
	jm := sim.JobManager(memberName, fd.Namespace, fd.Name)
	if err := jm.FinishJob(simJob(fd).ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, fd, time.Minute, "FINISHED, its latest checkpoints kept", func(fd *v1beta1.FlinkDeployment) bool {
		_, kept := fd.Status.ClusterInfo[plan.InfoEndedLatest]
		return fd.Status.JobStatus.State == v1beta1.JobFinished && kept
	})
	jm.ExpireJobs()
	awaitShutDown(t, ctx, fd, v1beta1.JobFinished)
}

// awaitShutDown waits until the JobManager of fd, whose job ended (end),
// is shut down after its TTL, and gone from the member and the simulator.
func awaitShutDown(t *testing.T, ctx context.Context, fd *v1beta1.FlinkDeployment, end v1beta1.JobStatusState) {
	t.Helper()
	waitFor(t, ctx, fd, time.Minute, "the ended job's JobManager shut down", func(fd *v1beta1.FlinkDeployment) bool {
		return fd.Status.JobStatus.State == end && fd.Status.JobManagerDeploymentStatus == v1beta1.JobManagerMissing
	})
	awaitEvent(t, ctx, fd, flinkdeployment.ReasonShutDown)
	if err := framework.Eventually(ctx, 30*time.Second, func(ctx context.Context) (bool, error) {
		return jobManagerUID(ctx, fd) == "" && sim.JobManager(memberName, fd.Namespace, fd.Name) == nil, nil
	}); err != nil {
		t.Fatalf("the JobManager is still there: %v", err)
	}
}

// upgradedFromCheckpoint upgrades fd, whose job ended (end) after its
// savepoint, and checks that the new job starts from the ended job's
// latest checkpoint, recorded as upgradeSavepointPath with an
// UpgradeFromCheckpoint event, the savepoint still recorded, and nothing
// left of the ended job's latest state kept in clusterInfo.
func upgradedFromCheckpoint(t *testing.T, ctx context.Context, fd *v1beta1.FlinkDeployment, end v1beta1.JobStatusState, savepoint, checkpoint string) {
	t.Helper()
	got := upgradeToParallelism3(t, ctx, fd)
	job := simJob(fd)
	if job == nil || job.Spec.Parallelism != 3 || job.Spec.Restore == nil || job.Spec.Restore.Path != checkpoint || job.Restored == nil || job.Restored.Path != checkpoint {
		t.Fatalf("the upgraded job must start from the %s job's latest checkpoint %s, not %s (savepoint %s): %+v", end, checkpoint, restorePath(job), savepoint, job)
	}
	js := got.Status.JobStatus
	if js.UpgradeSavepointPath != checkpoint {
		t.Errorf("upgradeSavepointPath %q, want %q", js.UpgradeSavepointPath, checkpoint)
	}
	if js.SavepointInfo == nil || js.SavepointInfo.LastSavepoint == nil || js.SavepointInfo.LastSavepoint.Location != savepoint {
		t.Errorf("the savepoint %s is no longer recorded: %+v", savepoint, js.SavepointInfo)
	}
	if kept, ok := got.Status.ClusterInfo[plan.InfoEndedLatest]; ok {
		t.Errorf("the ended job's latest state is still kept after the upgrade: %s", kept)
	}
	awaitEvent(t, ctx, fd, "UpgradeFromCheckpoint")
}

// restorePath is the path job was run from, "" for none.
func restorePath(job *jobmanager.JobStatus) string {
	if job == nil || job.Spec.Restore == nil {
		return ""
	}
	return job.Spec.Restore.Path
}

// TestFailedJobRestartedAfterItsJobManagerShutDown: a job that failed for
// good, its JobManager shut down after its TTL (3 s here), restarts once
// kubernetes.operator.job.restart.failed is turned on from its latest
// checkpoint, newer than its savepoint, kept before the shutdown, as
// upstream's resubmitJob restarts it from the latest checkpoint its
// observer recorded. It used to restart from the savepoint.
func TestFailedJobRestartedAfterItsJobManagerShutDown(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	fd := withSettings(haExample(t, "failed-ttl", v1beta1.UpgradeModeSavepoint), `"kubernetes.operator.jm-deployment.shutdown-ttl":"3 s"`)
	fd, savepoint, checkpoint := endedAfterSavepoint(t, ctx, fd, v1beta1.JobFailed)
	awaitShutDown(t, ctx, fd, v1beta1.JobFailed)
	patchSpec(t, ctx, fd, restartFailed)
	restarted := waitFor(t, ctx, fd, 2*time.Minute, "restarted", func(got *v1beta1.FlinkDeployment) bool {
		return running(got) && got.Status.ObservedGeneration == got.Generation
	})
	if job := simJob(fd); job == nil || job.State != "RUNNING" || restorePath(job) != checkpoint {
		t.Errorf("the restarted job must run from the failed job's latest checkpoint %s (savepoint %s), not %s: %+v", checkpoint, savepoint, restorePath(job), job)
	}
	if got := restarted.Status.JobStatus.UpgradeSavepointPath; got != checkpoint {
		t.Errorf("upgradeSavepointPath %q, want %q", got, checkpoint)
	}
	awaitEvent(t, ctx, fd, "RestartFailedJob")
}
