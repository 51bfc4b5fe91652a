package flinksessionjob_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/e2e/flinksim"
	"github.com/flink-hub/flink-hub/e2e/flinksim/jobmanager"
	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/controllers/flinkdeployment"
	"github.com/flink-hub/flink-hub/internal/controllers/hubtest"
	"github.com/flink-hub/flink-hub/internal/problem"
)

// stallTimeout bounds each wait of TestStalledUpgradeIsReported: the
// cancellation's (flink.client.cancel.timeout) and the savepoint's
// (execution.checkpointing.timeout).
const stallTimeout = 3 * time.Second

// TestStalledUpgradeIsReported: a session job upgrade whose job Flink
// keeps CANCELLING (stateless and last-state upgrades cancel it), or whose
// stop-with-savepoint never completes, is reported as UpgradeStalled in
// status.error (what it waits for, since when, the setting that bounds
// it), the Ready condition and a Warning event once the wait outlasts its
// timeout, within one progress check, the same settings a
// FlinkDeployment's upgrade goes by; the hub keeps waiting meanwhile with
// the job, its state and its savepoint trigger untouched, and once Flink
// goes on the report clears and the upgrade completes from the state it
// kept. Before, each wait was silent: RUNNING or CANCELLING in the status,
// nothing in status.error, for as long as Flink took.
func TestStalledUpgradeIsReported(t *testing.T) {
	for _, tc := range []struct {
		name, ns string
		mode     v1beta1.UpgradeMode
		conf     string
		faults   jobmanager.Faults
		// held is the job's state while the upgrade waits; says names
		// what status.error says it waits for and the setting bounding it.
		held v1beta1.JobStatusState
		says []string
	}{
		{"last-state cancellation", "stall-laststate", v1beta1.UpgradeModeLastState,
			`{"kubernetes.operator.flink.client.cancel.timeout":"3 s"}`, jobmanager.Faults{HoldCancelling: true},
			v1beta1.JobCancelling, []string{"CANCELLING since", "the last-state upgrade", "kubernetes.operator.flink.client.cancel.timeout", "3s"}},
		// Upstream's deprecated name for the timeout is read too.
		{"stateless cancellation", "stall-stateless", v1beta1.UpgradeModeStateless,
			`{"kubernetes.operator.reconciler.flink.cancel.job.timeout":"3 s"}`, jobmanager.Faults{HoldCancelling: true},
			v1beta1.JobCancelling, []string{"CANCELLING since", "the stateless upgrade", "kubernetes.operator.flink.client.cancel.timeout", "3s"}},
		{"stop-with-savepoint", "stall-savepoint", v1beta1.UpgradeModeSavepoint,
			`{"state.savepoints.dir":"file:///flink-data/savepoints","execution.checkpointing.timeout":"3 s"}`, jobmanager.Faults{HoldSavepoints: true},
			v1beta1.JobRunning, []string{"the upgrade's stop-with-savepoint in progress since", "execution.checkpointing.timeout (3s)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			fd, job, first := runningJobWith(t, ctx, tc.ns, tc.mode, tc.conf)
			if tc.mode == v1beta1.UpgradeModeLastState {
				awaitCheckpoint(t, fd, first)
			}
			if err := sim.SetFaults(memberName, fd.Namespace, fd.Name, flinksim.ClusterFaults{JobManager: tc.faults}); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = sim.SetFaults(memberName, fd.Namespace, fd.Name, flinksim.ClusterFaults{}) })

			patched := time.Now()
			patchJob(t, job, `{"spec":{"job":{"parallelism":3}}}`)
			stalled := awaitStalled(t, job, patched)
			assertStalledKeepsState(t, fd, stalled, first, tc.held, tc.says)

			if err := sim.SetFaults(memberName, fd.Namespace, fd.Name, flinksim.ClusterFaults{}); err != nil {
				t.Fatal(err)
			}
			upgraded := waitJob(t, job, "upgraded, the report cleared", func(j *v1beta1.FlinkSessionJob) bool {
				return runningJob(j) && j.Status.JobStatus.JobID != first && j.Status.ObservedGeneration == j.Generation
			})
			assertUpgradedFromKeptState(t, fd, upgraded, first, tc.mode)
		})
	}
}

// awaitStalled waits for the UpgradeStalled report of job's upgrade,
// patched at patched: not before stallTimeout has passed (the upgrade's
// wait starts after the patch), and within stallTimeout, one progress
// check and the time a reconcile and a status write take on a loaded
// machine.
func awaitStalled(t *testing.T, job *v1beta1.FlinkSessionJob, patched time.Time) *v1beta1.FlinkSessionJob {
	t.Helper()
	within := stallTimeout + hubtest.Options().ProgressCheckInterval + framework.AwaitTimeout
	var got *v1beta1.FlinkSessionJob
	framework.AwaitWithin(t, within, "UpgradeStalled", func() error {
		got = getJob(t, job)
		if !problem.Decode(got.Status.Error).Is(problem.UpgradeStalled) {
			return fmt.Errorf("status.error %q, job %s", got.Status.Error, got.Status.JobStatus.State)
		}
		return nil
	})
	if waited := time.Since(patched); waited < stallTimeout {
		t.Errorf("reported %s after the upgrade started, before its timeout of %s", waited, stallTimeout)
	}
	return got
}

// assertStalledKeepsState checks the stalled upgrade's report (status.error
// saying what it waits for, since when and the setting; the Ready
// condition; a Warning event) and that nothing was lost or started: the
// old job, held as it is in Flink and in the status, still the one the
// status names, the upgrade still under way, and no other job run.
func assertStalledKeepsState(t *testing.T, fd *v1beta1.FlinkDeployment, got *v1beta1.FlinkSessionJob, first string, held v1beta1.JobStatusState, says []string) {
	t.Helper()
	msg := problem.Message(got.Status.Error)
	for _, want := range says {
		if !strings.Contains(msg, want) {
			t.Errorf("status.error %q does not say %q", msg, want)
		}
	}
	js := got.Status.JobStatus
	if js.JobID != first || js.State != held || js.UpgradeSavepointPath != "" || got.Status.ReconciliationStatus.State != v1beta1.ReconciliationUpgrading {
		t.Errorf("job status %+v, reconciliation %s: want job %s %s, the upgrade under way", js, got.Status.ReconciliationStatus.State, first, held)
	}
	if held == v1beta1.JobRunning && (js.SavepointInfo == nil || js.SavepointInfo.TriggerID == "" || js.SavepointInfo.TriggerType != v1beta1.TriggerUpgrade) {
		t.Errorf("savepoint info %+v: the upgrade's trigger must stay recorded", js.SavepointInfo)
	}
	if c := meta.FindStatusCondition(got.Status.Conditions, flinkdeployment.ConditionReady); c == nil || c.Reason != string(problem.UpgradeStalled) {
		t.Errorf("Ready condition %+v, want reason UpgradeStalled", c)
	}
	if evs := eventsOf(t, got, string(problem.UpgradeStalled)); len(evs) == 0 || evs[0].Type != "Warning" {
		t.Errorf("UpgradeStalled events %+v, want a Warning", evs)
	}
	if jobs := sim.JobManager(memberName, fd.Namespace, fd.Name).Jobs(); len(jobs) != 1 || string(jobs[0].State) != string(held) {
		t.Errorf("session cluster's jobs %+v, want only the old one, %s", jobs, held)
	}
}

// assertUpgradedFromKeptState checks that the upgrade completed from the
// state the old job kept: its latest checkpoint (last-state), its
// savepoint (savepoint), none (stateless).
func assertUpgradedFromKeptState(t *testing.T, fd *v1beta1.FlinkDeployment, upgraded *v1beta1.FlinkSessionJob, first string, mode v1beta1.UpgradeMode) {
	t.Helper()
	var want string
	switch mode {
	case v1beta1.UpgradeModeLastState:
		want = lastCheckpoint(t, fd, first)
	case v1beta1.UpgradeModeSavepoint:
		old := simJob(fd, first)
		if old == nil || old.State != "FINISHED" || old.Savepoint == nil {
			t.Fatalf("the old job %+v, want it stopped with a savepoint", old)
		}
		want = old.Savepoint.Path
	default:
		awaitCancelled(t, fd, first)
	}
	sj := simJob(fd, upgraded.Status.JobStatus.JobID)
	var from string
	if sj != nil && sj.Spec.Restore != nil {
		from = sj.Spec.Restore.Path
	}
	if sj == nil || sj.Spec.Parallelism != 3 || from != want || upgraded.Status.JobStatus.UpgradeSavepointPath != want {
		t.Errorf("upgraded job %+v (upgradeSavepointPath %q), want it run with parallelism 3 from %q", sj, upgraded.Status.JobStatus.UpgradeSavepointPath, want)
	}
}

// getJob reads job from the member.
func getJob(t *testing.T, job *v1beta1.FlinkSessionJob) *v1beta1.FlinkSessionJob {
	t.Helper()
	got := &v1beta1.FlinkSessionJob{}
	if err := fleet.Members[0].Client.Get(context.Background(), client.ObjectKeyFromObject(job), got); err != nil {
		t.Fatal(err)
	}
	return got
}

// TestStalledSavepointIsReported: a manual savepoint of a running session
// job in progress past Flink's execution.checkpointing.timeout (which
// should have ended it) and one progress check is SavepointStalled in
// status.error, as a FlinkDeployment's is, no upgrade waiting on it; the
// hub keeps following its trigger, the job runs on, and once Flink
// completes it the savepoint is recorded and the report clears. Before,
// it was silent.
func TestStalledSavepointIsReported(t *testing.T) {
	fd, job, id, got := awaitManualSnapshotStalled(t, "stall-manual", `{"state.savepoints.dir":"file:///flink-data/savepoints","execution.checkpointing.timeout":"3 s"}`,
		jobmanager.Faults{HoldSavepoints: true}, "savepointTriggerNonce", problem.SavepointStalled, "savepoint")
	if info := got.Status.JobStatus.SavepointInfo; info == nil || info.TriggerID == "" || info.TriggerType != v1beta1.TriggerManual || got.Status.JobStatus.State != v1beta1.JobRunning || got.Status.JobStatus.JobID != id {
		t.Errorf("job %s %s, savepoint info %+v: want the job running and the trigger followed", got.Status.JobStatus.JobID, got.Status.JobStatus.State, info)
	}
	if err := sim.SetFaults(memberName, fd.Namespace, fd.Name, flinksim.ClusterFaults{}); err != nil {
		t.Fatal(err)
	}
	waitJob(t, job, "the savepoint recorded, the report cleared", func(j *v1beta1.FlinkSessionJob) bool {
		info := j.Status.JobStatus.SavepointInfo
		return runningJob(j) && info != nil && info.TriggerID == "" && info.LastSavepoint != nil && info.LastSavepoint.TriggerType == v1beta1.TriggerManual
	})
}

// awaitManualSnapshotStalled runs a session job on a cluster whose
// JobManager holds its snapshots (faults), sets the manual trigger nonce
// (savepointTriggerNonce or checkpointTriggerNonce) and waits until
// status.error reports reason, checking its message names the manual
// snapshot (what) in progress and the timeout setting. The faults are
// cleared at the test's end.
func awaitManualSnapshotStalled(t *testing.T, name, conf string, faults jobmanager.Faults, nonce string, reason problem.Reason, what string) (*v1beta1.FlinkDeployment, *v1beta1.FlinkSessionJob, string, *v1beta1.FlinkSessionJob) {
	t.Helper()
	fd, job, id := runningJobWith(t, context.Background(), name, "", conf)
	if err := sim.SetFaults(memberName, fd.Namespace, fd.Name, flinksim.ClusterFaults{JobManager: faults}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.SetFaults(memberName, fd.Namespace, fd.Name, flinksim.ClusterFaults{}) })
	patchJob(t, job, `{"spec":{"job":{"`+nonce+`":3}}}`)
	within := stallTimeout + hubtest.Options().ProgressCheckInterval + framework.AwaitTimeout
	var got *v1beta1.FlinkSessionJob
	framework.AwaitWithin(t, within, string(reason), func() error {
		got = getJob(t, job)
		if !problem.Decode(got.Status.Error).Is(reason) {
			return fmt.Errorf("status.error %q", got.Status.Error)
		}
		return nil
	})
	if msg := problem.Message(got.Status.Error); !strings.Contains(msg, "the manual "+what+" in progress since") || !strings.Contains(msg, "execution.checkpointing.timeout (3s)") {
		t.Errorf("status.error %q does not say what is stalled and the setting", msg)
	}
	return fd, job, id, got
}

// TestSessionJobStopWithSavepointDrainsWhenSet: with
// kubernetes.operator.job.drain-on-savepoint-deletion, a session job's
// savepoint upgrade stops the old job with a savepoint that drains it
// first, as upstream's every stop-with-savepoint; unset, it does not.
// Before, the hub never drained.
func TestSessionJobStopWithSavepointDrainsWhenSet(t *testing.T) {
	for _, tc := range []struct {
		name, drain string
		drained     bool
	}{
		{"unset", "", false},
		{"set", `,"kubernetes.operator.job.drain-on-savepoint-deletion":"true"`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			fd, job, first := runningJobWith(t, ctx, "drain-"+tc.name, v1beta1.UpgradeModeSavepoint,
				`{"state.savepoints.dir":"file:///flink-data/savepoints"`+tc.drain+`}`)
			patchJob(t, job, `{"spec":{"job":{"parallelism":3}}}`)
			waitJob(t, job, "upgraded", func(j *v1beta1.FlinkSessionJob) bool {
				return runningJob(j) && j.Status.JobStatus.JobID != first && j.Status.ObservedGeneration == j.Generation
			})
			old := simJob(fd, first)
			if old == nil || old.Savepoint == nil {
				t.Fatalf("the old job %+v, want it stopped with a savepoint", old)
			}
			if old.Savepoint.Drained != tc.drained {
				t.Errorf("the upgrade's stop-with-savepoint drained %v, want %v", old.Savepoint.Drained, tc.drained)
			}
		})
	}
}

// TestStalledCheckpointIsReported: a session job's manual checkpoint in
// progress past Flink's execution.checkpointing.timeout and one progress
// check is CheckpointStalled in status.error, as a FlinkDeployment's is;
// the job runs on, the trigger followed, and once Flink completes it the
// checkpoint is recorded and the report clears. Before, it was silent.
func TestStalledCheckpointIsReported(t *testing.T) {
	fd, job, id, got := awaitManualSnapshotStalled(t, "stall-checkpoint", `{"execution.checkpointing.timeout":"3 s"}`,
		jobmanager.Faults{HoldCheckpoints: true}, "checkpointTriggerNonce", problem.CheckpointStalled, "checkpoint")
	if info := got.Status.JobStatus.CheckpointInfo; info == nil || info.TriggerID == "" || got.Status.JobStatus.State != v1beta1.JobRunning || got.Status.JobStatus.JobID != id {
		t.Errorf("job %s %s, checkpoint info %+v: want the job running and the trigger followed", got.Status.JobStatus.JobID, got.Status.JobStatus.State, info)
	}
	if err := sim.SetFaults(memberName, fd.Namespace, fd.Name, flinksim.ClusterFaults{}); err != nil {
		t.Fatal(err)
	}
	waitJob(t, job, "the checkpoint recorded, the report cleared", func(j *v1beta1.FlinkSessionJob) bool {
		info := j.Status.JobStatus.CheckpointInfo
		return runningJob(j) && info != nil && info.TriggerID == "" && info.LastCheckpoint != nil && info.LastCheckpoint.TriggerType == v1beta1.TriggerManual
	})
}
