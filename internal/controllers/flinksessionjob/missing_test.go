package flinksessionjob_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/e2e/flinksim"
	"github.com/flink-hub/flink-hub/e2e/flinksim/jobmanager"
	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/problem"
)

// Jobs the session cluster does not know: recorded but never submitted
// (their jar unavailable), or forgotten by a JobManager restarted without
// HA.

// jarUnavailable is upstreamJobs' i-th job with a jar the artifact server
// does not have and conf as its configuration, created, once its status
// says JarUnavailable with its job id recorded.
func jarUnavailable(t *testing.T, ctx context.Context, ns string, artifacts *framework.Artifacts, i int, conf string) *v1beta1.FlinkSessionJob {
	t.Helper()
	job := upstreamJobs(t, ns, artifacts)[i]
	job.Spec.Job.JarURI = artifacts.URL + "/jars/typo-" + job.Name + ".jar"
	if conf != "" {
		job.Spec.FlinkConfiguration = &apiextensionsv1.JSON{Raw: []byte(conf)}
	}
	create(t, ctx, job)
	waitJob(t, job, job.Name+" JarUnavailable", func(j *v1beta1.FlinkSessionJob) bool {
		return problem.Decode(j.Status.Error).Is(problem.JarUnavailable) && j.Status.JobStatus.JobID != ""
	})
	return job
}

// TestCorrectedJarURIRunsTheJob: a session job recorded (job id, spec) but
// never in Flink, its jar unavailable, then given the right jarURI, is not
// an upgrade of a job to stop: the new spec runs at once, stateless as in
// savepoint mode (no savepoint to take of a job that never ran), the stale
// JarUnavailable cleared, one Flink job per session job.
func TestCorrectedJarURIRunsTheJob(t *testing.T) {
	ctx := context.Background()
	fd := sessionCluster(t, ctx, "fixed-jar")
	artifacts := framework.NewArtifacts(t)
	stateless := jarUnavailable(t, ctx, "fixed-jar", artifacts, 1, "")
	saving := jarUnavailable(t, ctx, "fixed-jar", artifacts, 0, `{"state.savepoints.dir":"file:///flink-data/savepoints"}`)
	patchJob(t, saving, `{"spec":{"job":{"upgradeMode":"savepoint"}}}`)
	for _, job := range []*v1beta1.FlinkSessionJob{stateless, saving} {
		good := artifacts.Put("/jars/"+job.Name+".jar", []byte("PK\x03\x04"+job.Name))
		patchJob(t, job, `{"spec":{"job":{"jarURI":"`+good+`"}}}`)
	}
	for _, job := range []*v1beta1.FlinkSessionJob{stateless, saving} {
		got := waitJob(t, job, job.Name+" RUNNING with the corrected jar", func(j *v1beta1.FlinkSessionJob) bool {
			return runningJob(j) && j.Status.ObservedGeneration == j.Generation
		})
		if sj := simJob(fd, got.Status.JobStatus.JobID); sj == nil || sj.Spec.Restore != nil {
			t.Errorf("%s: the session cluster runs %+v, want the job without state", job.Name, sj)
		}
	}
	if jobs := sim.JobManager(memberName, fd.Namespace, fd.Name).Jobs(); len(jobs) != 2 {
		t.Errorf("the session cluster runs %d jobs, want one per session job: %+v", len(jobs), jobs)
	}
}

// TestForgottenJobs: the session cluster's JobManager restarts without HA
// and forgets its jobs. A job that had FAILED for good stays FAILED and is
// never submitted again (a batch job's work would be done twice); a
// running savepoint-mode job is submitted again under its id from its
// newest savepoint (a manual one taken after it started), an event saying
// so.
func TestForgottenJobs(t *testing.T) {
	ctx := context.Background()
	fd := sessionCluster(t, ctx, "forgotten")
	jobs := upstreamJobs(t, "forgotten", framework.NewArtifacts(t))
	running, failed := jobs[0], jobs[1]
	running.Spec.Job.UpgradeMode = v1beta1.UpgradeModeSavepoint
	running.Spec.FlinkConfiguration = &apiextensionsv1.JSON{Raw: []byte(`{"state.savepoints.dir":"file:///flink-data/savepoints"}`)}
	create(t, ctx, running)
	create(t, ctx, failed)
	runningID := waitJob(t, running, "RUNNING", runningJob).Status.JobStatus.JobID
	failedID := waitJob(t, failed, "RUNNING", runningJob).Status.JobStatus.JobID
	if err := sim.JobManager(memberName, fd.Namespace, fd.Name).FailJob(failedID, "java.lang.IllegalStateException: bad record", true); err != nil {
		t.Fatal(err)
	}
	waitJob(t, failed, "FAILED", func(j *v1beta1.FlinkSessionJob) bool { return j.Status.JobStatus.State == v1beta1.JobFailed })
	patchJob(t, running, `{"spec":{"job":{"savepointTriggerNonce":1}}}`)
	saved := waitJob(t, running, "the manual savepoint", func(j *v1beta1.FlinkSessionJob) bool {
		info := j.Status.JobStatus.SavepointInfo
		return info != nil && info.LastSavepoint != nil && info.LastSavepoint.Location != "" && info.TriggerID == ""
	}).Status.JobStatus.SavepointInfo.LastSavepoint.Location

	if err := sim.Crash(ctx, memberName, fd.Namespace, fd.Name); err != nil {
		t.Fatal(err)
	}
	waitJob(t, running, "submitted again under its id", func(j *v1beta1.FlinkSessionJob) bool {
		sj := simJob(fd, runningID)
		return runningJob(j) && j.Status.JobStatus.JobID == runningID && sj != nil && sj.State == "RUNNING"
	})
	// The FAILED job's reconciles come every progress check (0.5s here).
	framework.Hold(t, 3*time.Second, "the forgotten FAILED job stays FAILED, not submitted again", func() error {
		got := &v1beta1.FlinkSessionJob{}
		if err := fleet.Members[0].Client.Get(ctx, client.ObjectKeyFromObject(failed), got); err != nil {
			return err
		}
		if sj := simJob(fd, failedID); sj != nil || got.Status.JobStatus.State != v1beta1.JobFailed || got.Status.JobStatus.JobID != failedID {
			return errorf("status %s %s, on the session cluster %+v", got.Status.JobStatus.JobID, got.Status.JobStatus.State, sj)
		}
		return nil
	})
	if sj := simJob(fd, runningID); sj.Spec.Restore == nil || sj.Spec.Restore.Path != saved {
		t.Errorf("the lost job runs again from %+v, want its newest savepoint %s", sj.Spec.Restore, saved)
	}
	awaitEvent(t, running, "Missing", "from "+saved)
}

// TestSavepointOnDeletionOfAJobNeverSubmitted: with savepoint-on-deletion,
// deleting a session job Flink does not know (its jar never arrived) has
// no savepoint to take: the finalizer goes at once, an event saying why,
// rather than stop-with-savepoint failing (404) forever.
func TestSavepointOnDeletionOfAJobNeverSubmitted(t *testing.T) {
	ctx := context.Background()
	sessionCluster(t, ctx, "sod-unsent")
	job := jarUnavailable(t, ctx, "sod-unsent", framework.NewArtifacts(t), 0,
		`{"kubernetes.operator.job.savepoint-on-deletion":"true","state.savepoints.dir":"file:///flink-data/savepoints"}`)
	if err := fleet.Members[0].Client.Delete(ctx, job); err != nil {
		t.Fatal(err)
	}
	awaitGone(t, job)
	awaitEvent(t, job, "NothingToStop", "no savepoint to take")
}

// TestDeletionWaitsForTheSessionClustersJobManager: a session job deleted
// while its session cluster's JobManager restarts (the cluster recorded
// not READY) is not let go at once: the deletion waits, reported in the
// status, until the JobManager is ready again, then ends the job and goes.
func TestDeletionWaitsForTheSessionClustersJobManager(t *testing.T) {
	ctx := context.Background()
	fd, job, _ := runningSessionJob(t, ctx, "jm-restart")
	if err := sim.SetFaults(memberName, fd.Namespace, fd.Name, flinksim.ClusterFaults{CrashLoop: true}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.SetFaults(memberName, fd.Namespace, fd.Name, flinksim.ClusterFaults{}) })
	if err := sim.Crash(ctx, memberName, fd.Namespace, fd.Name); err != nil {
		t.Fatal(err)
	}
	framework.Await(t, "session cluster not ready", func() error {
		got := &v1beta1.FlinkDeployment{}
		if err := fleet.Members[0].Client.Get(ctx, client.ObjectKeyFromObject(fd), got); err != nil {
			return err
		}
		if got.Status.JobManagerDeploymentStatus == v1beta1.JobManagerReady {
			return errorf("still READY")
		}
		return nil
	})
	if err := fleet.Members[0].Client.Delete(ctx, job); err != nil {
		t.Fatal(err)
	}
	waitJob(t, job, "the deletion waiting for the JobManager", func(j *v1beta1.FlinkSessionJob) bool {
		p := problem.Decode(j.Status.Error)
		return !j.DeletionTimestamp.IsZero() && p.Is(problem.SessionClusterUnavailable) && strings.Contains(p.Message, "the job is ended once it is ready")
	})
	if err := sim.SetFaults(memberName, fd.Namespace, fd.Name, flinksim.ClusterFaults{}); err != nil {
		t.Fatal(err)
	}
	awaitGone(t, job)
	awaitEvent(t, job, "Cancelled", "for the deletion")
}

// TestUpgradeWaitsForAPendingSavepoint: a spec change while a manual
// savepoint is in flight follows that savepoint to its end first,
// recorded in the history with its nonce, rather than replacing its
// trigger with the upgrade's (the savepoint would be neither recorded nor
// ever disposed of); then the upgrade stops the job with its own.
func TestUpgradeWaitsForAPendingSavepoint(t *testing.T) {
	ctx := context.Background()
	fd := sessionCluster(t, ctx, "pending-savepoint")
	job := upstreamJobs(t, "pending-savepoint", framework.NewArtifacts(t))[0]
	job.Spec.Job.UpgradeMode = v1beta1.UpgradeModeSavepoint
	job.Spec.FlinkConfiguration = &apiextensionsv1.JSON{Raw: []byte(`{"state.savepoints.dir":"file:///flink-data/savepoints"}`)}
	create(t, ctx, job)
	first := waitJob(t, job, "RUNNING", runningJob).Status.JobStatus.JobID
	if err := sim.SetFaults(memberName, fd.Namespace, fd.Name, flinksim.ClusterFaults{JobManager: jobmanager.Faults{SavepointDuration: 2 * time.Second}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.SetFaults(memberName, fd.Namespace, fd.Name, flinksim.ClusterFaults{}) })
	patchJob(t, job, `{"spec":{"job":{"savepointTriggerNonce":5}}}`)
	waitJob(t, job, "the manual savepoint in flight", func(j *v1beta1.FlinkSessionJob) bool {
		info := j.Status.JobStatus.SavepointInfo
		return info != nil && info.TriggerID != "" && info.TriggerType == v1beta1.TriggerManual
	})
	patchJob(t, job, `{"spec":{"job":{"parallelism":2}}}`)
	got := waitJob(t, job, "upgraded", func(j *v1beta1.FlinkSessionJob) bool {
		return runningJob(j) && j.Status.JobStatus.JobID != first && j.Status.ObservedGeneration == j.Generation
	})
	var manual *v1beta1.Savepoint
	for _, sp := range got.Status.JobStatus.SavepointInfo.SavepointHistory {
		if sp.TriggerType == v1beta1.TriggerManual {
			manual = &sp
		}
	}
	if manual == nil || manual.Location == "" || manual.TriggerNonce == nil || *manual.TriggerNonce != 5 || manual.Location == got.Status.JobStatus.UpgradeSavepointPath {
		t.Fatalf("history %+v, upgrade from %s: want the manual savepoint recorded with its nonce, the upgrade from its own",
			got.Status.JobStatus.SavepointInfo.SavepointHistory, got.Status.JobStatus.UpgradeSavepointPath)
	}
}

// TestLostSubmissionOfAnEndedJob: the answer to a session job's jar run is
// lost (the connection reset after Flink accepted the job), and the job
// ends and expires from Flink's job list before the hub looks again. Flink
// refuses the recorded id as a duplicate (its job result store keeps it)
// and shows no such job, so how the job ended is unknown: the hub says so
// in status.error (JobResultGone, naming the job) and stops. Before, it
// took each refusal for a submission that had arrived and ran the jar
// again at every progress check, RECONCILING forever. A spec change runs
// the job again under a new id.
func TestLostSubmissionOfAnEndedJob(t *testing.T) {
	ctx := context.Background()
	fd := sessionCluster(t, ctx, "lost-run")
	jm := sim.JobManager(memberName, fd.Namespace, fd.Name)
	job := upstreamJobs(t, "lost-run", framework.NewArtifacts(t))[0]
	id := lostRunOfAnEndedJob(t, ctx, fd, job)
	got := waitJob(t, job, "JobResultGone", func(j *v1beta1.FlinkSessionJob) bool {
		return problem.Decode(j.Status.Error).Is(problem.JobResultGone)
	})
	if p := problem.Decode(got.Status.Error); got.Status.JobStatus.JobID != id || !strings.Contains(p.Message, "job "+id+" was submitted") || !strings.Contains(p.Message, "has ended") {
		t.Fatalf("job %s, status.error %q: want job %s reported ended with its result gone", got.Status.JobStatus.JobID, p.Message, id)
	}
	if c := meta.FindStatusCondition(got.Status.Conditions, "Ready"); c == nil || c.Status != metav1.ConditionFalse || c.Reason != string(problem.JobResultGone) {
		t.Fatalf("Ready condition %+v, want False with reason JobResultGone", c)
	}
	awaitEvent(t, job, string(problem.JobResultGone), "has ended")
	// Reconciles come every reconcile interval (5s here), each looking the
	// job up; the lost run and the one refused are all its runs.
	awaitLookups(t, jm, id, 3, 2)
	if now := waitJob(t, job, "status read", func(*v1beta1.FlinkSessionJob) bool { return true }); !problem.Decode(now.Status.Error).Is(problem.JobResultGone) {
		t.Fatalf("status.error %q, want JobResultGone kept", now.Status.Error)
	}

	// The session cluster's JobManager restarts without HA: its job result
	// store (in memory) forgets the id, which Flink would then run again.
	// The status kept JobResultGone while the cluster was away, so the job
	// is still not run again.
	restartSessionCluster(t, ctx, fd)
	framework.Hold(t, 3*time.Second, "the job not run again after the restart", func() error {
		got := &v1beta1.FlinkSessionJob{}
		if err := fleet.Members[0].Client.Get(ctx, client.ObjectKeyFromObject(job), got); err != nil {
			return err
		}
		if jobs := sim.JobManager(memberName, fd.Namespace, fd.Name).Jobs(); len(jobs) != 0 || !problem.Decode(got.Status.Error).Is(problem.JobResultGone) {
			return errorf("the restarted session cluster runs %+v; status.error %q", jobs, got.Status.Error)
		}
		return nil
	})

	patchJob(t, job, `{"spec":{"job":{"parallelism":2}}}`)
	after := waitJob(t, job, "RUNNING again under a new id", func(j *v1beta1.FlinkSessionJob) bool {
		return runningJob(j) && j.Status.JobStatus.JobID != id && j.Status.ObservedGeneration == j.Generation
	})
	if after.Status.Error != "" {
		t.Fatalf("status.error %q once the new spec runs, want none", after.Status.Error)
	}
}

// lostRunOfAnEndedJob creates job on fd with the answer to its jar run
// held; once the job runs, it fails, its details expire, and the held
// answer is lost (the connection reset). It returns the job's id.
func lostRunOfAnEndedJob(t *testing.T, ctx context.Context, fd *v1beta1.FlinkDeployment, job *v1beta1.FlinkSessionJob) string {
	t.Helper()
	jm := sim.JobManager(memberName, fd.Namespace, fd.Name)
	if err := sim.SetFaults(memberName, fd.Namespace, fd.Name, flinksim.ClusterFaults{JobManager: jobmanager.Faults{LoseRunAnswers: true}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.SetFaults(memberName, fd.Namespace, fd.Name, flinksim.ClusterFaults{}) })
	create(t, ctx, job)
	var id string
	framework.Await(t, "the job running in the session cluster, its answer held", func() error {
		jobs := jm.Jobs()
		if len(jobs) != 1 || jobs[0].State != "RUNNING" {
			return errorf("jobs %+v", jobs)
		}
		id = jobs[0].ID
		return nil
	})
	if err := jm.FailJob(id, "java.lang.IllegalStateException: bad record", true); err != nil {
		t.Fatal(err)
	}
	framework.Await(t, "the job FAILED", func() error {
		if jobs := jm.Jobs(); len(jobs) != 1 || jobs[0].State != "FAILED" {
			return errorf("jobs %+v", jobs)
		}
		return nil
	})
	jm.ExpireJobs()
	// The held answer is lost: the connection is reset.
	if err := sim.SetFaults(memberName, fd.Namespace, fd.Name, flinksim.ClusterFaults{}); err != nil {
		t.Fatal(err)
	}
	return id
}

// restartSessionCluster restarts fd's JobManager, without HA (its jobs
// forgotten), and waits until fd's status said not READY, then READY
// again.
func restartSessionCluster(t *testing.T, ctx context.Context, fd *v1beta1.FlinkDeployment) {
	t.Helper()
	if err := sim.SetFaults(memberName, fd.Namespace, fd.Name, flinksim.ClusterFaults{CrashLoop: true}); err != nil {
		t.Fatal(err)
	}
	if err := sim.Crash(ctx, memberName, fd.Namespace, fd.Name); err != nil {
		t.Fatal(err)
	}
	for _, want := range []bool{false, true} {
		framework.Await(t, fmt.Sprintf("session cluster READY: %t", want), func() error {
			got := &v1beta1.FlinkDeployment{}
			if err := fleet.Members[0].Client.Get(ctx, client.ObjectKeyFromObject(fd), got); err != nil {
				return err
			}
			if ready := got.Status.JobManagerDeploymentStatus == v1beta1.JobManagerReady; ready != want {
				return errorf("JobManager %s", got.Status.JobManagerDeploymentStatus)
			}
			return nil
		})
		if err := sim.SetFaults(memberName, fd.Namespace, fd.Name, flinksim.ClusterFaults{}); err != nil {
			t.Fatal(err)
		}
	}
}
