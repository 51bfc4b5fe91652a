package flinkdeployment_test

import (
	"context"
	"strings"
	"testing"
	"time"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/problem"
)

// TestRestoreFromMissingSavepoint: a redeploy from a savepoint path that
// does not exist starts a cluster whose job cannot start (Flink's
// JobMaster fails to resolve the path). The hub shows the job FAILED, says
// in status.error that the savepoint is not there, and keeps the
// savepoint it recorded before; a redeploy from that one runs again.
func TestRestoreFromMissingSavepoint(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	fd, _, saved := withManualSavepoint(t, ctx, "missing-savepoint")
	good := saved.Status.JobStatus.SavepointInfo.LastSavepoint.Location

	const missing = "file:///flink-data/savepoints/savepoint-gone"
	patchSpec(t, ctx, fd, `{"spec":{"job":{"initialSavepointPath":"`+missing+`","savepointRedeployNonce":1}}}`)
	got := waitFor(t, ctx, fd, 2*time.Minute, "the job failed to restore", func(fd *v1beta1.FlinkDeployment) bool {
		return fd.Status.ObservedGeneration == fd.Generation && fd.Status.JobStatus.State == v1beta1.JobFailed && failure(fd).Reason == problem.JobFailed
	})
	p := failure(got)
	said := p.Message
	for _, c := range p.CauseList() {
		said += "\n" + c.Type + ": " + c.Message
	}
	if !strings.Contains(said, "Cannot find checkpoint or savepoint file/directory '"+missing+"'") {
		t.Errorf("status.error does not say the savepoint is missing: %q", said)
	}
	if got.Status.LifecycleState != v1beta1.LifecycleFailed {
		t.Errorf("lifecycle state %s, want FAILED", got.Status.LifecycleState)
	}
	if info := got.Status.JobStatus.SavepointInfo; info == nil || info.LastSavepoint == nil || info.LastSavepoint.Location != good ||
		len(info.SavepointHistory) == 0 || info.SavepointHistory[len(info.SavepointHistory)-1].Location != good {
		t.Errorf("the savepoint recorded before, %s, is lost: %+v", good, info)
	}

	// A redeploy from the savepoint recorded runs again, the error gone.
	patchSpec(t, ctx, fd, `{"spec":{"job":{"initialSavepointPath":"`+good+`","savepointRedeployNonce":2}}}`)
	waitFor(t, ctx, fd, 2*time.Minute, "running from the savepoint recorded", func(fd *v1beta1.FlinkDeployment) bool {
		job := simJob(fd)
		return running(fd) && fd.Status.ObservedGeneration == fd.Generation && fd.Status.Error == "" &&
			job != nil && job.Restored != nil && job.Restored.Path == good
	})
}
