package flinksessionjob_test

import (
	"context"
	"strings"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/e2e/flinksim/jobmanager"
	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/controllers/flinkdeployment"
	"github.com/flink-hub/flink-hub/internal/problem"
)

// TestSessionJobInPlaceScaling: a change of a running session job's
// parallelism overrides alone, on a native session cluster with the
// adaptive scheduler, rescales the job in place, as upstream's
// NativeFlinkService.scale does for session jobs too: the session
// cluster's resource requirements endpoint is called, the same Flink job
// runs on (no stop, no savepoint, no second job) with the vertex's new
// parallelism, a Scaling event says so, and the new spec is recorded.
// When the JobManager refuses the new requirements, the change is a
// normal upgrade: a new job from a savepoint, its SpecChanged event
// saying why not in place. Before, every such change was an upgrade.
func TestSessionJobInPlaceScaling(t *testing.T) {
	const refusal = "java.lang.IllegalStateException: rescale refused"
	for _, tc := range []struct {
		name, refusal string
	}{{"sj-inplace", ""}, {"sj-inplace-refused", refusal}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			fd, job, id := runningAdaptiveSessionJob(t, ctx, tc.name)
			before := simJob(fd, id)
			if before == nil || before.Vertices[0].Parallelism != 4 {
				t.Fatalf("the job before the change: %+v", before)
			}
			sim.JobManager(memberName, fd.Namespace, fd.Name).SetFaults(jobmanager.Faults{RescaleFailure: tc.refusal})
			vertex := before.Vertices[0].ID
			patchJob(t, job, `{"spec":{"flinkConfiguration":{"pipeline.jobvertex-parallelism-overrides":"`+vertex+`:2"}}}`)
			got := waitJob(t, job, "the overrides recorded", func(j *v1beta1.FlinkSessionJob) bool {
				return runningJob(j) && j.Status.ObservedGeneration == j.Generation &&
					strings.Contains(j.Status.ReconciliationStatus.LastReconciledSpec, vertex+":2")
			})
			after := awaitVertex(t, fd, got.Status.JobStatus.JobID, vertex, 2)
			if tc.refusal == "" {
				checkSessionJobScaledInPlace(t, fd, job, got, id, after)
			} else {
				checkSessionJobUpgraded(t, got, id, after, tc.refusal)
			}
		})
	}
}

// awaitVertex waits until the session cluster fd runs job id with vertex
// at parallelism, and returns the job.
func awaitVertex(t *testing.T, fd *v1beta1.FlinkDeployment, id, vertex string, parallelism int) *jobmanager.JobStatus {
	t.Helper()
	var sj *jobmanager.JobStatus
	framework.Await(t, "vertex "+vertex+" rescaled", func() error {
		if sj = simJob(fd, id); sj == nil || sj.State != "RUNNING" {
			return errorf("job %s: %+v", id, sj)
		}
		for _, v := range sj.Vertices {
			if v.ID == vertex && v.Parallelism == parallelism && v.UpperBound == parallelism {
				return nil
			}
		}
		return errorf("vertices %+v", sj.Vertices)
	})
	return sj
}

// checkSessionJobScaledInPlace checks that job was rescaled in place: the
// same Flink job id and only job of the session cluster, one resource
// requirements update, no savepoint, the Scaling event and no upgrade,
// its other vertex untouched.
func checkSessionJobScaledInPlace(t *testing.T, fd *v1beta1.FlinkDeployment, job, got *v1beta1.FlinkSessionJob, id string, after *jobmanager.JobStatus) {
	t.Helper()
	if got.Status.JobStatus.JobID != id || after.ID != id {
		t.Errorf("the job was replaced: %s -> %s", id, got.Status.JobStatus.JobID)
	}
	if jobs := sim.JobManager(memberName, fd.Namespace, fd.Name).Jobs(); len(jobs) != 1 {
		t.Errorf("%d jobs on the session cluster, want the one", len(jobs))
	}
	if after.Rescales != 1 || after.SavepointTriggers != 0 || after.Vertices[1].Parallelism != 4 {
		t.Errorf("rescales %d, savepoint triggers %d, vertices %+v: want one rescale, no savepoint, the other vertex at 4", after.Rescales, after.SavepointTriggers, after.Vertices)
	}
	if rs := got.Status.ReconciliationStatus; rs.State != v1beta1.ReconciliationDeployed {
		t.Errorf("reconciliation state %s", rs.State)
	}
	awaitEvent(t, job, flinkdeployment.ReasonScaling, flinkdeployment.MsgInPlaceScaling)
	if evs := eventsOf(t, job, "SpecChanged"); len(evs) > 0 {
		t.Errorf("an upgrade began: %s", evs[0].Note)
	}
}

// checkSessionJobUpgraded checks that the change went the upgrade way: a
// new job from a savepoint of the old one, no rescale, the SpecChanged
// event quoting the JobManager's refusal, no Scaling event.
func checkSessionJobUpgraded(t *testing.T, got *v1beta1.FlinkSessionJob, id string, after *jobmanager.JobStatus, refusal string) {
	t.Helper()
	if got.Status.JobStatus.JobID == id || after.Rescales != 0 || after.Spec.Restore == nil || after.Spec.Restore.Path != got.Status.JobStatus.UpgradeSavepointPath {
		t.Errorf("job %s after %d rescales restored from %+v: want a new job from the upgrade's savepoint %q", after.ID, after.Rescales, after.Spec.Restore, got.Status.JobStatus.UpgradeSavepointPath)
	}
	awaitEvent(t, got, "SpecChanged", "not made in place: the JobManager refused the new resource requirements")
	awaitEvent(t, got, "SpecChanged", refusal)
	if evs := eventsOf(t, got, flinkdeployment.ReasonScaling); len(evs) > 0 {
		t.Errorf("a Scaling event: %s", evs[0].Note)
	}
}

// TestSessionJobRescaleAfterAManualSavepoint: a manual savepoint
// (savepointTriggerNonce) asked for beside a change of the job's
// parallelism overrides, in one edit or while its savepoint is still in
// flight, completes, recorded with its nonce after its one trigger, and
// the job is rescaled in place, keeping its id. A rescale restarts the
// job's tasks, and Flink (the simulator too) fails a savepoint in flight
// then: before, a rescale asked for while the savepoint was in flight ran
// at once and the user's savepoint failed.
func TestSessionJobRescaleAfterAManualSavepoint(t *testing.T) {
	for _, tc := range []struct {
		name     string
		inFlight bool // the overrides change comes while the savepoint is in flight
	}{{"sj-nonce-overrides", false}, {"sj-overrides-inflight", true}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			fd, job, id := runningAdaptiveSessionJob(t, ctx, tc.name)
			vertex := simJob(fd, id).Vertices[0].ID
			overrides := `"flinkConfiguration":{"pipeline.jobvertex-parallelism-overrides":"` + vertex + `:2"}`
			if tc.inFlight {
				sim.JobManager(memberName, fd.Namespace, fd.Name).SetFaults(jobmanager.Faults{SavepointDuration: 2 * time.Second})
				patchJob(t, job, `{"spec":{"job":{"savepointTriggerNonce":5}}}`)
				waitJob(t, job, "the manual savepoint in flight", func(j *v1beta1.FlinkSessionJob) bool {
					info := j.Status.JobStatus.SavepointInfo
					return info != nil && info.TriggerID != "" && info.TriggerType == v1beta1.TriggerManual
				})
				patchJob(t, job, `{"spec":{`+overrides+`}}`)
			} else {
				patchJob(t, job, `{"spec":{"job":{"savepointTriggerNonce":5},`+overrides+`}}`)
			}
			got := waitJob(t, job, "the savepoint completed and the overrides recorded", func(j *v1beta1.FlinkSessionJob) bool {
				return runningJob(j) && j.Status.ObservedGeneration == j.Generation && manualNonce(j, false) != nil &&
					strings.Contains(j.Status.ReconciliationStatus.LastReconciledSpec, vertex+":2")
			})
			after := awaitVertex(t, fd, id, vertex, 2)
			if n := manualNonce(got, false); *n != 5 || got.Status.JobStatus.JobID != id {
				t.Errorf("manual savepoint nonce %d, job %s: want 5, the job %s rescaled in place", *n, got.Status.JobStatus.JobID, id)
			}
			if after.SavepointTriggers != 1 || after.Rescales != 1 || !problem.Decode(got.Status.Error).IsZero() {
				t.Errorf("%d savepoint triggers, %d rescales, error %q: want the nonce's one savepoint, one rescale, no error", after.SavepointTriggers, after.Rescales, got.Status.Error)
			}
		})
	}
}

// runningAdaptiveSessionJob starts, in namespace name, a session cluster
// with Flink's adaptive scheduler and an upstream example session job on
// it in savepoint upgrade mode, and waits until the job runs: the
// cluster, the job and the job's id.
func runningAdaptiveSessionJob(t *testing.T, ctx context.Context, name string) (*v1beta1.FlinkDeployment, *v1beta1.FlinkSessionJob, string) {
	t.Helper()
	fd := sessionClusterOf(t, ctx, name, "", func(fd *v1beta1.FlinkDeployment) {
		fd.Spec.FlinkConfiguration = &apiextensionsv1.JSON{Raw: []byte(`{"jobmanager.scheduler":"adaptive"}`)}
	})
	job := upstreamJobs(t, name, framework.NewArtifacts(t))[0]
	job.Spec.Job.UpgradeMode = v1beta1.UpgradeModeSavepoint
	job.Spec.FlinkConfiguration = &apiextensionsv1.JSON{Raw: []byte(`{"state.savepoints.dir":"file:///flink-data/savepoints"}`)}
	create(t, ctx, job)
	return fd, job, waitJob(t, job, "RUNNING", runningJob).Status.JobStatus.JobID
}
