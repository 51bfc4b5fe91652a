package flinksessionjob_test

import (
	"context"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/controllers/flinkdeployment"
)

// TestPendingSnapshotNonceIsTakenOnceTheJobRuns: a new
// savepointTriggerNonce or checkpointTriggerNonce set while a session job
// is suspended (alone, or beside a change recorded while it stays
// suspended), with its resume, or with an upgrade is taken once the
// resumed or upgraded job runs, and only then recorded as handled, as
// upstream keeps the last handled nonces whenever it records a spec
// (updateStatusForSpecReconciliation). Before, the submission, and the
// change recorded while suspended, recorded the new nonce as handled with
// the spec: its snapshot was never taken.
func TestPendingSnapshotNonceIsTakenOnceTheJobRuns(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		ns         string
		suspend    bool     // the job is suspended first
		patches    []string // each seen by the hub before the next
		checkpoint bool     // the nonce is checkpointTriggerNonce
	}{
		{ns: "nonce-while-suspended", suspend: true, patches: []string{`{"spec":{"job":{"savepointTriggerNonce":5}}}`, `{"spec":{"job":{"state":"running"}}}`}},
		{ns: "nonce-and-change-while-suspended", suspend: true, patches: []string{`{"spec":{"job":{"parallelism":2,"savepointTriggerNonce":5}}}`, `{"spec":{"job":{"state":"running"}}}`}},
		{ns: "nonce-with-resume", suspend: true, patches: []string{`{"spec":{"job":{"state":"running","savepointTriggerNonce":5}}}`}},
		{ns: "nonce-with-upgrade", patches: []string{`{"spec":{"job":{"parallelism":2,"savepointTriggerNonce":5}}}`}},
		{ns: "checkpoint-nonce-with-upgrade", patches: []string{`{"spec":{"job":{"parallelism":2,"checkpointTriggerNonce":5}}}`}, checkpoint: true},
	} {
		t.Run(tc.ns, func(t *testing.T) {
			fd, job, id := runningJobWith(t, ctx, tc.ns, v1beta1.UpgradeModeSavepoint, `{"state.savepoints.dir":"file:///flink-data/savepoints"}`)
			if tc.suspend {
				patchJob(t, job, `{"spec":{"job":{"state":"suspended"}}}`)
				waitJob(t, job, "SUSPENDED", func(j *v1beta1.FlinkSessionJob) bool { return j.Status.LifecycleState == v1beta1.LifecycleSuspended })
			}
			for _, p := range tc.patches {
				patchJob(t, job, p)
				// status.observedGeneration and the Ready condition say the
				// hub saw the patch, even one it records nothing of (a
				// nonce alone while suspended).
				waitJob(t, job, "the patch seen", func(j *v1beta1.FlinkSessionJob) bool {
					c := meta.FindStatusCondition(j.Status.Conditions, flinkdeployment.ConditionReady)
					return c != nil && c.ObservedGeneration == j.Generation && j.Status.ObservedGeneration == j.Generation
				})
			}
			got := waitJob(t, job, "the nonce's snapshot of the new job", func(j *v1beta1.FlinkSessionJob) bool {
				return runningJob(j) && j.Status.JobStatus.JobID != id && manualNonce(j, tc.checkpoint) != nil
			})
			newID := got.Status.JobStatus.JobID
			if n := manualNonce(got, tc.checkpoint); *n != 5 {
				t.Errorf("the manual snapshot has nonce %d, want 5", *n)
			}
			field := `"savepointTriggerNonce":5`
			triggers := func() int {
				if sj := simJob(fd, newID); sj != nil {
					return sj.SavepointTriggers
				}
				return 0
			}
			if tc.checkpoint {
				field = `"checkpointTriggerNonce":5`
				triggers = func() int { return sim.JobManager(memberName, fd.Namespace, fd.Name).CheckpointTriggerRequests(newID) }
			}
			if n := triggers(); n != 1 {
				t.Errorf("job %s got %d snapshot triggers, want the nonce's one", newID, n)
			}
			if spec := got.Status.ReconciliationStatus.LastReconciledSpec; !strings.Contains(spec, field) {
				t.Errorf("the nonce is not recorded as handled: %s", spec)
			}
		})
	}
}

// manualNonce is the nonce of the job's last savepoint, or checkpoint,
// when a manual one completed; nil when none did.
func manualNonce(j *v1beta1.FlinkSessionJob, checkpoint bool) *int64 {
	js := &j.Status.JobStatus
	switch {
	case checkpoint && js.CheckpointInfo != nil && js.CheckpointInfo.LastCheckpoint != nil && js.CheckpointInfo.LastCheckpoint.TriggerType == v1beta1.TriggerManual:
		return nonZero(js.CheckpointInfo.LastCheckpoint.TriggerNonce)
	case !checkpoint && js.SavepointInfo != nil && js.SavepointInfo.LastSavepoint != nil && js.SavepointInfo.LastSavepoint.TriggerType == v1beta1.TriggerManual:
		return nonZero(js.SavepointInfo.LastSavepoint.TriggerNonce)
	}
	return nil
}

// nonZero is n, or a pointer to 0 for an unset nonce: a manual snapshot
// completed either way.
func nonZero(n *int64) *int64 {
	if n == nil {
		return new(int64)
	}
	return n
}
