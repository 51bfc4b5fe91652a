package flinksessionjob_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/e2e/flinksim"
	"github.com/flink-hub/flink-hub/e2e/flinksim/jobmanager"
	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/problem"
)

// savepointsDir is the savepoint directory of the jobs whose savepoints
// the tests fail.
const savepointsDir = `"state.savepoints.dir":"file:///flink-data/savepoints"`

// TestRepeatedSnapshotFailuresAreCounted: a session job's savepoint
// (an upgrade's, a periodic one, the deletion's) or periodic checkpoint
// that keeps failing is reported with its cause, how many failed in a row
// and when the hub tries again, the count growing with each failure and
// the job running on; the report ends once one completes (the deletion
// goes on).
func TestRepeatedSnapshotFailuresAreCounted(t *testing.T) {
	sp := jobmanager.Faults{SavepointFailure: "disk full"}
	for _, tc := range []struct {
		name, conf, patch, next string
		faults                  jobmanager.Faults
		reason                  problem.Reason
		event                   string
		delete                  bool
		done                    func(first string) func(*v1beta1.FlinkSessionJob) bool
	}{
		{name: "sj-count-upgrade", conf: savepointsDir, patch: `{"spec":{"job":{"parallelism":3}}}`, faults: sp,
			reason: problem.SavepointFailed, event: "SavepointError", next: "the spec change is tried again with a new savepoint at ",
			done: func(first string) func(*v1beta1.FlinkSessionJob) bool {
				return func(j *v1beta1.FlinkSessionJob) bool {
					return runningJob(j) && j.Status.JobStatus.JobID != first && j.Status.JobStatus.UpgradeSavepointPath != ""
				}
			}},
		{name: "sj-count-periodic", conf: savepointsDir + `,"kubernetes.operator.periodic.savepoint.interval":"3 s"`, faults: sp,
			reason: problem.SavepointFailed, event: "SavepointError", next: "the next periodic savepoint is at ",
			done: func(string) func(*v1beta1.FlinkSessionJob) bool {
				return func(j *v1beta1.FlinkSessionJob) bool {
					info := j.Status.JobStatus.SavepointInfo
					return runningJob(j) && info != nil && info.LastSavepoint != nil && info.LastSavepoint.TriggerType == v1beta1.TriggerPeriodic
				}
			}},
		{name: "sj-count-checkpoint", conf: `"kubernetes.operator.periodic.checkpoint.interval":"3 s"`, faults: jobmanager.Faults{CheckpointFailure: "storage unreachable"},
			reason: problem.CheckpointFailed, event: "CheckpointError", next: "the next periodic checkpoint is at ",
			done: func(string) func(*v1beta1.FlinkSessionJob) bool {
				return func(j *v1beta1.FlinkSessionJob) bool {
					info := j.Status.JobStatus.CheckpointInfo
					return runningJob(j) && info != nil && info.LastCheckpoint != nil && info.LastCheckpoint.TriggerType == v1beta1.TriggerPeriodic
				}
			}},
		{name: "sj-count-deletion", conf: savepointsDir + `,"kubernetes.operator.job.savepoint-on-deletion":"true"`, delete: true, faults: sp,
			reason: problem.SavepointFailed, event: "SavepointError", next: "the deletion is tried again with a new savepoint at "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			fd, job, id := runningJobWith(t, ctx, tc.name, v1beta1.UpgradeModeSavepoint, "{"+tc.conf+"}")
			if err := sim.SetFaults(memberName, fd.Namespace, fd.Name, flinksim.ClusterFaults{JobManager: tc.faults}); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = sim.SetFaults(memberName, fd.Namespace, fd.Name, flinksim.ClusterFaults{}) })
			switch {
			case tc.patch != "":
				patchJob(t, job, tc.patch)
			case tc.delete:
				if err := fleet.Members[0].Client.Delete(ctx, job); err != nil {
					t.Fatal(err)
				}
			}
			first := awaitFailures(t, job, tc.reason, 1, tc.next)
			again := awaitFailures(t, job, tc.reason, first.Failures+1, tc.next)
			t.Logf("status.error says: %s", again.Message)
			if cause := tc.faults.SavepointFailure + tc.faults.CheckpointFailure; !strings.Contains(again.Message, cause) {
				t.Errorf("message %q does not name the cause %q", again.Message, cause)
			}
			if sj := simJob(fd, id); sj == nil || sj.State != "RUNNING" {
				t.Fatalf("the job must keep running while its snapshots fail: %+v", sj)
			}
			awaitEvent(t, job, tc.event, fmt.Sprintf("(%d times in a row)", again.Failures))
			if err := sim.SetFaults(memberName, fd.Namespace, fd.Name, flinksim.ClusterFaults{}); err != nil {
				t.Fatal(err)
			}
			if tc.delete {
				awaitGone(t, job)
				return
			}
			waitJob(t, job, "the report ended by a completed snapshot", tc.done(id))
		})
	}
}

// awaitFailures waits until job reports at least n failures in a row of
// reason and checks that the message names the count and the next try
// (next; when it ends in " at ", a time to come follows); it returns the
// problem.
func awaitFailures(t *testing.T, job *v1beta1.FlinkSessionJob, reason problem.Reason, n int, next string) problem.Problem {
	t.Helper()
	var p problem.Problem
	framework.AwaitWithin(t, time.Minute, fmt.Sprintf("%d failures in a row", n), func() error {
		got := &v1beta1.FlinkSessionJob{}
		if err := fleet.Members[0].Client.Get(context.Background(), client.ObjectKeyFromObject(job), got); err != nil {
			return err
		}
		if p = problem.Decode(got.Status.Error); p.Reason != reason || p.Failures < n {
			return errorf("status.error %q", got.Status.Error)
		}
		return nil
	})
	times := "(once)"
	if p.Failures > 1 {
		times = fmt.Sprintf("(%d times in a row)", p.Failures)
	}
	if !strings.Contains(p.Message, times) || !strings.Contains(p.Message, next) {
		t.Fatalf("message %q does not name the %d failures in a row and the next try (%q)", p.Message, p.Failures, next)
	}
	const utc = "2006-01-02T15:04:05Z"
	if !strings.HasSuffix(next, " at ") {
		return p // never tried again: no time to name
	}
	if _, after, _ := strings.Cut(p.Message, next); len(after) < len(utc) {
		t.Fatalf("message %q does not say when", p.Message)
	} else if at, err := time.Parse(utc, after[:len(utc)]); err != nil || at.Before(time.Now().Add(-time.Minute)) {
		t.Fatalf("message %q: next try %q (%v) is not a time to come", p.Message, after[:len(utc)], err)
	}
	return p
}

// TestManualSnapshotRetriedWithinGracePeriod: a session job's manual
// savepoint or checkpoint that fails within its trigger grace period
// (kubernetes.operator.savepoint/checkpoint.trigger.grace-period) is
// triggered again, a Warning event saying so, and completes once Flink
// can take it, as upstream's SnapshotObserver does for session jobs too;
// one that fails past its grace period is reported once, not tried again.
func TestManualSnapshotRetriedWithinGracePeriod(t *testing.T) {
	for _, tc := range []struct {
		name, grace, patch string
		checkpoint, late   bool
	}{
		{name: "sj-grace-savepoint", grace: `"kubernetes.operator.savepoint.trigger.grace-period":"30 s"`, patch: `{"spec":{"job":{"savepointTriggerNonce":5}}}`},
		{name: "sj-grace-checkpoint", grace: `"kubernetes.operator.checkpoint.trigger.grace-period":"30 s"`, patch: `{"spec":{"job":{"checkpointTriggerNonce":5}}}`, checkpoint: true},
		{name: "sj-late-savepoint", grace: `"kubernetes.operator.savepoint.trigger.grace-period":"1 ms"`, patch: `{"spec":{"job":{"savepointTriggerNonce":5}}}`, late: true},
		{name: "sj-late-checkpoint", grace: `"kubernetes.operator.checkpoint.trigger.grace-period":"1 ms"`, patch: `{"spec":{"job":{"checkpointTriggerNonce":5}}}`, checkpoint: true, late: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			fd, job, id := runningJobWith(t, ctx, tc.name, "", "{"+savepointsDir+","+tc.grace+"}")
			jm := sim.JobManager(memberName, fd.Namespace, fd.Name)
			faults, event, reason, nonce := jobmanager.Faults{SavepointFailure: "bucket briefly unreachable"}, "SavepointError", problem.SavepointFailed, "job.savepointTriggerNonce"
			triggers := func() int { return simJob(fd, id).SavepointTriggers }
			if tc.checkpoint {
				faults, event, reason, nonce = jobmanager.Faults{CheckpointFailure: "bucket briefly unreachable"}, "CheckpointError", problem.CheckpointFailed, "job.checkpointTriggerNonce"
				triggers = func() int { return jm.CheckpointTriggerRequests(id) }
			}
			jm.SetFaults(faults)
			t.Cleanup(func() { jm.SetFaults(jobmanager.Faults{}) })
			patchJob(t, job, tc.patch)
			if tc.late {
				p := awaitFailures(t, job, reason, 1, "it is not tried again: change "+nonce+" to take another")
				framework.Hold(t, 2*time.Second, "no retry past the grace period", func() error {
					if n := triggers(); n != 1 {
						return errorf("%d triggers sent, want 1", n)
					}
					return nil
				})
				if got := getJob(t, job); problem.Decode(got.Status.Error) != p || !runningJob(withoutError(got)) {
					t.Fatalf("the report %q must stay and the job run on: %+v", got.Status.Error, got.Status.JobStatus)
				}
				return
			}
			framework.Await(t, "the failed snapshot triggered again", func() error {
				if n := triggers(); n < 2 {
					return errorf("%d triggers sent", n)
				}
				return nil
			})
			awaitEvent(t, job, event, "failed within its trigger grace period, retrying: ")
			jm.SetFaults(jobmanager.Faults{})
			waitJob(t, job, "the retried snapshot completed, nothing reported", func(j *v1beta1.FlinkSessionJob) bool {
				sp, cp := j.Status.JobStatus.SavepointInfo, j.Status.JobStatus.CheckpointInfo
				if tc.checkpoint {
					return runningJob(j) && cp != nil && cp.LastCheckpoint != nil && cp.LastCheckpoint.TriggerNonce != nil && *cp.LastCheckpoint.TriggerNonce == 5
				}
				return runningJob(j) && sp != nil && sp.LastSavepoint != nil && sp.LastSavepoint.TriggerNonce != nil && *sp.LastSavepoint.TriggerNonce == 5
			})
		})
	}
}

// withoutError is job with its status.error dropped, for runningJob.
func withoutError(job *v1beta1.FlinkSessionJob) *v1beta1.FlinkSessionJob {
	job = job.DeepCopy()
	job.Status.Error = ""
	return job
}
