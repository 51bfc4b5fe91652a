package flinkdeployment_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/e2e/flinksim/jobmanager"
	"github.com/flink-hub/flink-hub/e2e/framework"
)

// endedAfterSavepoint deploys the HA example as name with mode, takes a
// manual savepoint, waits for a checkpoint completed after it, and ends
// the job: FAILED for good, or FINISHED. It returns fd (the job ended),
// the savepoint's path and the path of the ended job's latest checkpoint.
func endedAfterSavepoint(t *testing.T, ctx context.Context, name string, mode v1beta1.UpgradeMode, end v1beta1.JobStatusState) (fd *v1beta1.FlinkDeployment, savepoint, checkpoint string) {
	t.Helper()
	fd, _ = deployAndPatch(t, ctx, haExample(t, name, mode), `{"spec":{"job":{"savepointTriggerNonce":1}}}`)
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
	waitFor(t, ctx, fd, time.Minute, string(end), func(fd *v1beta1.FlinkDeployment) bool { return fd.Status.JobStatus.State == end })
	job := simJob(fd)
	if job == nil || string(job.State) != string(end) || len(job.Checkpoints) == 0 {
		t.Fatalf("job %+v, want %s with checkpoints", job, end)
	}
	return fd, savepoint, job.Checkpoints[len(job.Checkpoints)-1].Path
}

// TestUpgradeOfAnEndedJobStartsFromItsLatestCheckpoint: a stateful
// upgrade (last-state or savepoint) of an application whose job FAILED
// or FINISHED, with its JobManager still there, starts the new job from
// the ended job's latest checkpoint when that is newer than its newest
// savepoint, as upstream (SnapshotObserver.observeLatestCheckpoint records
// a globally terminal job's latest checkpoint as upgradeSavepointPath,
// AbstractJobReconciler.getJobUpgrade restores from it when there is no
// HA metadata, which Flink dropped with the ended job). The hub used to
// start it from the savepoint, losing the state checkpointed since. The
// savepoint stays recorded.
func TestUpgradeOfAnEndedJobStartsFromItsLatestCheckpoint(t *testing.T) {
	for i, tc := range []struct {
		mode v1beta1.UpgradeMode
		end  v1beta1.JobStatusState
	}{
		{v1beta1.UpgradeModeLastState, v1beta1.JobFailed},
		{v1beta1.UpgradeModeLastState, v1beta1.JobFinished},
		{v1beta1.UpgradeModeSavepoint, v1beta1.JobFailed},
		{v1beta1.UpgradeModeSavepoint, v1beta1.JobFinished},
	} {
		t.Run(fmt.Sprintf("%s %s", tc.mode, tc.end), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
			defer cancel()
			fd, savepoint, checkpoint := endedAfterSavepoint(t, ctx, fmt.Sprintf("ended-%d", i), tc.mode, tc.end)
			got := upgradeToParallelism3(t, ctx, fd)
			job := simJob(fd)
			if job == nil || job.Spec.Parallelism != 3 || job.Spec.Restore == nil || job.Spec.Restore.Path != checkpoint || job.Restored == nil || job.Restored.Path != checkpoint {
				t.Fatalf("the upgraded job must start from the %s job's latest checkpoint %s, not %s (savepoint %s): %+v", tc.end, checkpoint, restorePath(job), savepoint, job)
			}
			js := got.Status.JobStatus
			if js.UpgradeSavepointPath != checkpoint {
				t.Errorf("upgradeSavepointPath %q, want %q", js.UpgradeSavepointPath, checkpoint)
			}
			if js.SavepointInfo == nil || js.SavepointInfo.LastSavepoint == nil || js.SavepointInfo.LastSavepoint.Location != savepoint {
				t.Errorf("the savepoint %s is no longer recorded: %+v", savepoint, js.SavepointInfo)
			}
			awaitEvent(t, ctx, fd, "UpgradeFromCheckpoint")
		})
	}
}

// restorePath is the path job was run from, "" for none.
func restorePath(job *jobmanager.JobStatus) string {
	if job == nil || job.Spec.Restore == nil {
		return ""
	}
	return job.Spec.Restore.Path
}
