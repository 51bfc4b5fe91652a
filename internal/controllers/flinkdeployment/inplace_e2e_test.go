package flinkdeployment_test

import (
	"context"
	"strings"
	"testing"
	"time"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/e2e/flinksim/jobmanager"
	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/controllers/flinkdeployment"
)

// TestInPlaceScaling: a change of a native job's parallelism overrides
// alone, with the adaptive scheduler, rescales the job in place as
// upstream does: the same job (id, JobManager), no savepoint, the vertex's
// parallelism changed in Flink, a Scaling event, and the new spec recorded
// as deployed and stable. With in-place scaling turned off, or the default
// scheduler, the same change is a regular upgrade: a new job, started from
// a savepoint, with the override. Without HA, so that a new job has a new
// id.
func TestInPlaceScaling(t *testing.T) {
	cases := []struct {
		name, settings string
		// refusal fails the JobManager's resource requirements updates.
		refusal string
		inPlace bool
	}{
		{"inplace-adaptive", `"jobmanager.scheduler":"adaptive"`, "", true},
		{"inplace-off", `"jobmanager.scheduler":"adaptive","kubernetes.operator.job.upgrade.inplace-scaling.enabled":"false"`, "", false},
		{"inplace-default-scheduler", `"jobmanager.scheduler":"default"`, "", false},
		{"inplace-refused", `"jobmanager.scheduler":"adaptive"`, "java.lang.IllegalStateException: rescale refused", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			fd := deployRunningWithoutHA(t, ctx, tc.name, tc.settings)
			before, jm := simJob(fd), jobManager(t, ctx, fd)
			sim.JobManager(memberName, fd.Namespace, fd.Name).SetFaults(jobmanager.Faults{RescaleFailure: tc.refusal})
			vertex := before.Vertices[0].ID
			if before.Vertices[0].Parallelism != 2 {
				t.Fatalf("vertices before the change: %+v", before.Vertices)
			}
			patchSpec(t, ctx, fd, `{"spec":{"flinkConfiguration":{"pipeline.jobvertex-parallelism-overrides":"`+vertex+`:4"}}}`)
			got := waitFor(t, ctx, fd, 2*time.Minute, "the override deployed", func(got *v1beta1.FlinkDeployment) bool {
				return running(got) && got.Status.ObservedGeneration == got.Generation &&
					strings.Contains(got.Status.ReconciliationStatus.LastReconciledSpec, vertex+":4") &&
					got.Status.ReconciliationStatus.LastStableSpec == got.Status.ReconciliationStatus.LastReconciledSpec
			})
			after := awaitVertexParallelism(t, ctx, fd, vertex, 4)
			if tc.inPlace {
				checkScaledInPlace(t, ctx, fd, got, before, after, jm.UID != jobManager(t, ctx, fd).UID)
			} else {
				checkUpgraded(t, ctx, fd, got, before, after, tc.refusal)
			}
		})
	}
}

// awaitVertexParallelism waits until fd's latest simulated job runs vertex
// with parallelism and returns it.
func awaitVertexParallelism(t *testing.T, ctx context.Context, fd *v1beta1.FlinkDeployment, vertex string, parallelism int) *jobmanager.JobStatus {
	t.Helper()
	var job *jobmanager.JobStatus
	err := framework.Eventually(ctx, time.Minute, func(context.Context) (bool, error) {
		job = simJob(fd)
		if job == nil || job.State != "RUNNING" {
			return false, nil
		}
		for _, v := range job.Vertices {
			if v.ID == vertex {
				return v.Parallelism == parallelism && v.UpperBound == parallelism, nil
			}
		}
		return false, nil
	})
	if err != nil {
		t.Fatalf("vertex %s never ran with parallelism %d: %v; job %+v", vertex, parallelism, err, job)
	}
	return job
}

// checkScaledInPlace checks that the job was rescaled in place: the same
// job and JobManager, one resource requirements update, no savepoint, the
// Scaling event, DEPLOYED.
func checkScaledInPlace(t *testing.T, ctx context.Context, fd, got *v1beta1.FlinkDeployment, before, after *jobmanager.JobStatus, newJobManager bool) {
	t.Helper()
	if after.ID != before.ID || got.Status.JobStatus.JobID != fd.Status.JobStatus.JobID || newJobManager {
		t.Errorf("the job was replaced: %s -> %s (JobManager replaced: %v)", before.ID, after.ID, newJobManager)
	}
	if jobs := sim.JobManager(memberName, fd.Namespace, fd.Name).Jobs(); len(jobs) != 1 {
		t.Errorf("%d jobs submitted, want the one", len(jobs))
	}
	if after.Rescales != 1 || after.SavepointTriggers != 0 || after.Savepoint != nil {
		t.Errorf("rescales %d, savepoint triggers %d, savepoint %+v: want one rescale and no savepoint", after.Rescales, after.SavepointTriggers, after.Savepoint)
	}
	if after.Vertices[1].Parallelism != 2 {
		t.Errorf("the vertex without an override changed: %+v", after.Vertices)
	}
	if got.Status.ReconciliationStatus.State != v1beta1.ReconciliationDeployed {
		t.Errorf("reconciliation state %s", got.Status.ReconciliationStatus.State)
	}
	if !awaitEvent(t, ctx, fd, flinkdeployment.ReasonScaling) {
		return
	}
	if evs := eventsOf(ctx, fd, flinkdeployment.ReasonScaling); evs[0].Note != flinkdeployment.MsgInPlaceScaling {
		t.Errorf("Scaling event %q", evs[0].Note)
	}
	if hasEvent(ctx, fd, "SpecChanged") {
		t.Error("an upgrade began")
	}
}

// checkUpgraded checks that the change went the regular upgrade way: a
// new job, from a savepoint of the old one, the SpecChanged event saying
// why not in place (quoting the JobManager's refusal, if any), no Scaling
// event.
func checkUpgraded(t *testing.T, ctx context.Context, fd, got *v1beta1.FlinkDeployment, before, after *jobmanager.JobStatus, refusal string) {
	t.Helper()
	if after.ID == before.ID || got.Status.JobStatus.JobID == fd.Status.JobStatus.JobID {
		t.Errorf("the job was not redeployed: %s", after.ID)
	}
	if after.Restored == nil || !after.Restored.IsSavepoint || after.Rescales != 0 {
		t.Errorf("the new job starts from %+v after %d rescales: want a savepoint, none", after.Restored, after.Rescales)
	}
	if hasEvent(ctx, fd, flinkdeployment.ReasonScaling) {
		t.Error("a Scaling event")
	}
	if awaitEvent(t, ctx, fd, "SpecChanged") {
		if note := eventsOf(ctx, fd, "SpecChanged")[0].Note; !strings.Contains(note, "Spec changed (scale), not in place: ") || !strings.Contains(note, refusal) {
			t.Errorf("SpecChanged event %q does not say why not in place", note)
		}
	}
}

// TestInPlaceScalingAfterAManualSavepoint: a manual savepoint
// (savepointTriggerNonce) asked for in the same edit as a change of the
// parallelism overrides, or with the change coming while it is in flight,
// completes, recorded with its nonce after its one trigger, and the job
// is rescaled in place (its id kept): the reconcile that triggers the
// savepoint ends there, and the plan holds a spec change while a manual
// savepoint is under way (plan.Next). The simulator, as Flink, fails a
// savepoint in flight when a rescale restarts the job's tasks, so a
// rescale that did not wait would show (TestSteps pins the order).
func TestInPlaceScalingAfterAManualSavepoint(t *testing.T) {
	for _, tc := range []struct {
		name     string
		inFlight bool // the overrides change comes while the savepoint is in flight
	}{{"inplace-nonce", false}, {"inplace-nonce-inflight", true}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			fd := deployRunningWithoutHA(t, ctx, tc.name, `"jobmanager.scheduler":"adaptive"`)
			before := simJob(fd)
			sim.JobManager(memberName, fd.Namespace, fd.Name).SetFaults(jobmanager.Faults{SavepointDuration: 2 * time.Second})
			vertex := before.Vertices[0].ID
			overrides := `"flinkConfiguration":{"pipeline.jobvertex-parallelism-overrides":"` + vertex + `:4"}`
			if tc.inFlight {
				patchSpec(t, ctx, fd, `{"spec":{"job":{"savepointTriggerNonce":5}}}`)
				waitFor(t, ctx, fd, time.Minute, "the manual savepoint in flight", func(got *v1beta1.FlinkDeployment) bool {
					info := got.Status.JobStatus.SavepointInfo
					return info != nil && info.TriggerID != "" && info.TriggerType == v1beta1.TriggerManual
				})
				patchSpec(t, ctx, fd, `{"spec":{`+overrides+`}}`)
			} else {
				patchSpec(t, ctx, fd, `{"spec":{"job":{"savepointTriggerNonce":5},`+overrides+`}}`)
			}
			got := waitFor(t, ctx, fd, 2*time.Minute, "the savepoint completed and the override deployed", func(got *v1beta1.FlinkDeployment) bool {
				info := got.Status.JobStatus.SavepointInfo
				return running(got) && got.Status.ObservedGeneration == got.Generation && info != nil && info.LastSavepoint != nil &&
					strings.Contains(got.Status.ReconciliationStatus.LastReconciledSpec, vertex+":4")
			})
			after := awaitVertexParallelism(t, ctx, fd, vertex, 4)
			last := got.Status.JobStatus.SavepointInfo.LastSavepoint
			if last.TriggerType != v1beta1.TriggerManual || last.TriggerNonce == nil || *last.TriggerNonce != 5 || last.Location == "" {
				t.Errorf("last savepoint %+v: want the manual one of nonce 5", last)
			}
			if after.ID != before.ID || after.SavepointTriggers != 1 || after.Rescales != 1 || got.Status.Error != "" {
				t.Errorf("job %s (was %s), %d savepoint triggers, %d rescales, error %q: want the same job, one savepoint, one rescale, no error",
					after.ID, before.ID, after.SavepointTriggers, after.Rescales, got.Status.Error)
			}
		})
	}
}

// deployRunningWithoutHA deploys the HA example named name in savepoint
// upgrade mode, without HA and with settings, and waits until its job
// runs.
func deployRunningWithoutHA(t *testing.T, ctx context.Context, name, settings string) *v1beta1.FlinkDeployment {
	t.Helper()
	fd := haExample(t, name, v1beta1.UpgradeModeSavepoint)
	withoutHA(fd)
	return deployRunning(t, ctx, withSettings(fd, settings))
}
