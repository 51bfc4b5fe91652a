package flinksessionjob_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	eventsv1 "k8s.io/api/events/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/e2e/conformance/examples"
	"github.com/flink-hub/flink-hub/e2e/flinksim/jobmanager"
	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/controllers/flinkdeployment"
	"github.com/flink-hub/flink-hub/internal/deployer"
	"github.com/flink-hub/flink-hub/internal/flinkrest"
	"github.com/flink-hub/flink-hub/internal/flinkrest/api"
	"github.com/flink-hub/flink-hub/internal/problem"
)

// sessionCluster creates the upstream session example in namespace ns and
// waits until its JobManager is ready.
func sessionCluster(t *testing.T, ctx context.Context, ns string) *v1beta1.FlinkDeployment {
	t.Helper()
	return namedSessionCluster(t, ctx, ns, "")
}

// namedSessionCluster is sessionCluster named name ("" for the example's
// name).
func namedSessionCluster(t *testing.T, ctx context.Context, ns, name string) *v1beta1.FlinkDeployment {
	t.Helper()
	return sessionClusterOf(t, ctx, ns, name, func(*v1beta1.FlinkDeployment) {})
}

// sessionClusterOf is namedSessionCluster, the example edited first.
func sessionClusterOf(t *testing.T, ctx context.Context, ns, name string, edit func(*v1beta1.FlinkDeployment)) *v1beta1.FlinkDeployment {
	t.Helper()
	if err := fleet.Members[0].CreateNamespace(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	fd, err := examples.Named("basic-session-deployment-and-job/basic-session-deployment-example")
	if err != nil {
		t.Fatal(err)
	}
	fd.Namespace = ns
	if name != "" {
		fd.Name = name
	}
	edit(fd)
	create(t, ctx, fd)
	framework.Await(t, "session cluster ready", func() error {
		got := &v1beta1.FlinkDeployment{}
		if err := fleet.Members[0].Client.Get(ctx, client.ObjectKeyFromObject(fd), got); err != nil {
			return err
		}
		if got.Status.JobManagerDeploymentStatus != v1beta1.JobManagerReady {
			return errorf("JobManager %s", got.Status.JobManagerDeploymentStatus)
		}
		return nil
	})
	return fd
}

// upstreamJobs are the upstream example's session jobs in ns, their jars
// served by artifacts.
func upstreamJobs(t *testing.T, ns string, artifacts *framework.Artifacts) []*v1beta1.FlinkSessionJob {
	t.Helper()
	all, err := examples.LoadSessionJobs()
	if err != nil {
		t.Fatal(err)
	}
	var out []*v1beta1.FlinkSessionJob
	for _, ex := range all {
		job := ex.Typed.DeepCopy()
		job.Namespace = ns
		job.Spec.Job.JarURI = artifacts.Put("/jars/"+job.Name+".jar", []byte("PK\x03\x04"+job.Name))
		out = append(out, job)
	}
	return out
}

func create(t *testing.T, ctx context.Context, obj client.Object) {
	t.Helper()
	if err := fleet.Members[0].Client.Create(ctx, obj); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fleet.Members[0].Client.Delete(context.Background(), obj) })
}

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }

// waitJob waits until cond holds for the session job and returns it.
func waitJob(t *testing.T, job *v1beta1.FlinkSessionJob, what string, cond func(*v1beta1.FlinkSessionJob) bool) *v1beta1.FlinkSessionJob {
	t.Helper()
	got := &v1beta1.FlinkSessionJob{}
	framework.Await(t, what, func() error {
		if err := fleet.Members[0].Client.Get(context.Background(), client.ObjectKeyFromObject(job), got); err != nil {
			return err
		}
		if !cond(got) {
			return errorf("status %+v", got.Status)
		}
		return nil
	})
	return got
}

func runningJob(job *v1beta1.FlinkSessionJob) bool {
	return job.Status.JobStatus.State == v1beta1.JobRunning && job.Status.Error == ""
}

// simJob is the session cluster's job of id.
func simJob(fd *v1beta1.FlinkDeployment, id string) *jobmanager.JobStatus {
	jm := sim.JobManager(memberName, fd.Namespace, fd.Name)
	if jm == nil {
		return nil
	}
	for _, j := range jm.Jobs() {
		if j.ID == id {
			return &j
		}
	}
	return nil
}

// runningSessionJob creates a session cluster and the upstream example's
// first session job in namespace ns and waits until the job runs; it
// returns both and the job's id.
func runningSessionJob(t *testing.T, ctx context.Context, ns string) (*v1beta1.FlinkDeployment, *v1beta1.FlinkSessionJob, string) {
	t.Helper()
	return runningJobWith(t, ctx, ns, "", "")
}

// runningJobWith is runningSessionJob with the job's upgrade mode and its
// flinkConfiguration (JSON) set, each unless "".
func runningJobWith(t *testing.T, ctx context.Context, ns string, mode v1beta1.UpgradeMode, conf string) (*v1beta1.FlinkDeployment, *v1beta1.FlinkSessionJob, string) {
	t.Helper()
	fd := sessionCluster(t, ctx, ns)
	job := upstreamJobs(t, ns, framework.NewArtifacts(t))[0]
	if mode != "" {
		job.Spec.Job.UpgradeMode = mode
	}
	if conf != "" {
		job.Spec.FlinkConfiguration = &apiextensionsv1.JSON{Raw: []byte(conf)}
	}
	create(t, ctx, job)
	return fd, job, waitJob(t, job, "RUNNING", runningJob).Status.JobStatus.JobID
}

// awaitCancelled waits until the session cluster fd shows job id CANCELED.
func awaitCancelled(t *testing.T, fd *v1beta1.FlinkDeployment, id string) {
	t.Helper()
	framework.Await(t, "job "+id+" cancelled", func() error {
		if sj := simJob(fd, id); sj == nil || sj.State != "CANCELED" {
			return errorf("job %+v, want CANCELED", sj)
		}
		return nil
	})
}

// awaitGone waits until obj is deleted from the member.
func awaitGone(t *testing.T, obj client.Object) {
	t.Helper()
	framework.Await(t, obj.GetName()+" gone", func() error {
		err := fleet.Members[0].Client.Get(context.Background(), client.ObjectKeyFromObject(obj), obj.DeepCopyObject().(client.Object))
		if !apierrors.IsNotFound(err) {
			return errorf("still there: %v", err)
		}
		return nil
	})
}

func patchJob(t *testing.T, job *v1beta1.FlinkSessionJob, patch string) {
	t.Helper()
	if err := fleet.Members[0].Client.Patch(context.Background(), job, client.RawPatch(types.MergePatchType, []byte(patch))); err != nil {
		t.Fatal(err)
	}
}

// TestUpstreamSessionJobsRun: the upstream example's two session jobs and a
// third reach RUNNING on one session cluster, each its own Flink job under
// the id the hub recorded, with every uploaded jar deleted after the run.
func TestUpstreamSessionJobsRun(t *testing.T) {
	ctx := context.Background()
	fd := sessionCluster(t, ctx, "sessions")
	artifacts := framework.NewArtifacts(t)
	jobs := upstreamJobs(t, "sessions", artifacts)
	third := jobs[0].DeepCopy()
	third.Name = "third"
	jobs = append(jobs, third)
	for _, job := range jobs {
		create(t, ctx, job)
	}
	var ids []string
	for _, job := range jobs {
		got := waitJob(t, job, job.Name+" RUNNING", runningJob)
		id := got.Status.JobStatus.JobID
		if sj := simJob(fd, id); sj == nil || sj.Spec.Parallelism != int(job.Spec.Job.Parallelism) || sj.Spec.EntryClass != job.Spec.Job.EntryClass {
			t.Errorf("%s: the session cluster runs %+v under %s", job.Name, sj, id)
		}
		if got.Status.LifecycleState != v1beta1.LifecycleStable || got.Status.ReconciliationStatus.LastReconciledSpec == "" {
			t.Errorf("%s: lifecycle %s, reconciliation %+v", job.Name, got.Status.LifecycleState, got.Status.ReconciliationStatus)
		}
		ids = append(ids, id)
	}
	slices.Sort(ids)
	if len(slices.Compact(ids)) != len(jobs) {
		t.Fatalf("job ids %v: one per session job wanted", ids)
	}
	if left := sim.JobManager(memberName, fd.Namespace, fd.Name).Jars(); len(left) != 0 {
		t.Errorf("uploaded jars left on the session cluster: %v", left)
	}
	awaitEvent(t, jobs[0], flinkdeployment.ReasonJobStatusChanged, "to RUNNING")
}

// TestJobsFromTheSessionClustersImage: a session job without jarURI runs its
// entry class from the session cluster's classpath, and one with a
// local:// jar from that jar inside the cluster's image; the hub fetches
// nothing and uploads a launcher jar whose manifest puts the local jar on
// the job's class path. Without an entry class, the job is refused.
func TestJobsFromTheSessionClustersImage(t *testing.T) {
	ctx := context.Background()
	fd := sessionCluster(t, ctx, "image-jars")
	base := upstreamJobs(t, "image-jars", framework.NewArtifacts(t))[0]
	classpath, local, noEntry := base.DeepCopy(), base.DeepCopy(), base.DeepCopy()
	classpath.Name, classpath.Spec.Job.JarURI, classpath.Spec.Job.EntryClass = "classpath", "", "org.apache.flink.streaming.examples.windowing.TopSpeedWindowing"
	local.Name, local.Spec.Job.JarURI, local.Spec.Job.EntryClass = "local", "local:///opt/flink/usrlib/top speed.jar", "org.apache.flink.streaming.examples.windowing.TopSpeedWindowing"
	noEntry.Name, noEntry.Spec.Job.JarURI, noEntry.Spec.Job.EntryClass = "no-entry", "", ""
	for _, job := range []*v1beta1.FlinkSessionJob{classpath, local, noEntry} {
		create(t, ctx, job)
	}
	for job, wantClassPath := range map[*v1beta1.FlinkSessionJob][]string{classpath: nil, local: {"file:///opt/flink/usrlib/top%20speed.jar"}} {
		id := waitJob(t, job, job.Name+" RUNNING", runningJob).Status.JobStatus.JobID
		sj := simJob(fd, id)
		if sj == nil || sj.Spec.EntryClass != job.Spec.Job.EntryClass || !slices.Equal(sj.Spec.ClassPath, wantClassPath) {
			t.Errorf("%s: the session cluster runs %+v, want entry class %s and class path %v", job.Name, sj, job.Spec.Job.EntryClass, wantClassPath)
		}
	}
	got := waitJob(t, noEntry, "InvalidSpec", func(j *v1beta1.FlinkSessionJob) bool { return problem.Decode(j.Status.Error).Is(problem.InvalidSpec) })
	if msg := problem.Decode(got.Status.Error).Message; !strings.Contains(msg, "spec.job.entryClass") || got.Status.JobStatus.JobID != "" {
		t.Errorf("no-entry: error %q, job id %q: want the entry class named and nothing submitted", msg, got.Status.JobStatus.JobID)
	}
	if left := sim.JobManager(memberName, fd.Namespace, fd.Name).Jars(); len(left) != 0 {
		t.Errorf("uploaded launcher jars left on the session cluster: %v", left)
	}
}

// TestSessionJobUpgradesSuspendsAndResumes: a savepoint-mode session job is
// upgraded from a savepoint of the old job, suspended with a savepoint and
// resumed from it; a stateless one is upgraded without state.
func TestSessionJobUpgradesSuspendsAndResumes(t *testing.T) {
	ctx := context.Background()
	fd := sessionCluster(t, ctx, "upgrades")
	artifacts := framework.NewArtifacts(t)
	job := upstreamJobs(t, "upgrades", artifacts)[0]
	job.Spec.Job.UpgradeMode = v1beta1.UpgradeModeSavepoint
	job.Spec.FlinkConfiguration = &apiextensionsv1.JSON{Raw: []byte(`{"state.savepoints.dir":"file:///flink-data/savepoints"}`)}
	create(t, ctx, job)
	first := waitJob(t, job, "RUNNING", runningJob).Status.JobStatus.JobID

	patchJob(t, job, `{"spec":{"job":{"parallelism":2}}}`)
	upgraded := waitJob(t, job, "upgraded", func(j *v1beta1.FlinkSessionJob) bool {
		return runningJob(j) && j.Status.JobStatus.JobID != first && j.Status.ObservedGeneration == j.Generation
	})
	path := upgraded.Status.JobStatus.UpgradeSavepointPath
	if sj := simJob(fd, upgraded.Status.JobStatus.JobID); path == "" || sj == nil || sj.Spec.Restore == nil || sj.Spec.Restore.Path != path || sj.Spec.Parallelism != 2 {
		t.Fatalf("upgraded job %+v, want it restored from %q", sj, path)
	}
	if old := simJob(fd, first); old == nil || old.State != "FINISHED" {
		t.Errorf("the old job after the upgrade: %+v", old)
	}

	patchJob(t, job, `{"spec":{"job":{"state":"suspended"}}}`)
	suspended := waitJob(t, job, "SUSPENDED", func(j *v1beta1.FlinkSessionJob) bool { return j.Status.LifecycleState == v1beta1.LifecycleSuspended })
	if suspended.Status.JobStatus.UpgradeSavepointPath == path {
		t.Error("the suspend took no new savepoint")
	}
	patchJob(t, job, `{"spec":{"job":{"state":"running"}}}`)
	resumed := waitJob(t, job, "resumed", func(j *v1beta1.FlinkSessionJob) bool {
		return runningJob(j) && j.Status.JobStatus.JobID != upgraded.Status.JobStatus.JobID
	})
	if sj := simJob(fd, resumed.Status.JobStatus.JobID); sj == nil || sj.Spec.Restore == nil || sj.Spec.Restore.Path != suspended.Status.JobStatus.UpgradeSavepointPath {
		t.Fatalf("resumed job %+v, want it restored from the suspend's savepoint %q", sj, suspended.Status.JobStatus.UpgradeSavepointPath)
	}

	// Last-state cancels the job and restores from its latest checkpoint,
	// as upstream: a session job has no HA metadata of its own.
	lastState := upstreamJobs(t, "upgrades", artifacts)[0]
	lastState.Name = "last-state"
	lastState.Spec.Job.UpgradeMode = v1beta1.UpgradeModeLastState
	lastState.Spec.FlinkConfiguration = job.Spec.FlinkConfiguration
	create(t, ctx, lastState)
	lsFirst := waitJob(t, lastState, "last-state RUNNING", runningJob).Status.JobStatus.JobID
	awaitCheckpoint(t, fd, lsFirst)
	patchJob(t, lastState, `{"spec":{"job":{"parallelism":3}}}`)
	lsUpgraded := waitJob(t, lastState, "last-state upgraded", func(j *v1beta1.FlinkSessionJob) bool {
		return runningJob(j) && j.Status.JobStatus.JobID != lsFirst
	})
	if sj := simJob(fd, lsUpgraded.Status.JobStatus.JobID); sj == nil || sj.Spec.Restore == nil || sj.Spec.Restore.Path != lsUpgraded.Status.JobStatus.UpgradeSavepointPath {
		t.Fatalf("last-state upgrade runs %+v, want it restored from %q", sj, lsUpgraded.Status.JobStatus.UpgradeSavepointPath)
	}

	stateless := upstreamJobs(t, "upgrades", artifacts)[1]
	create(t, ctx, stateless)
	before := waitJob(t, stateless, "stateless RUNNING", runningJob).Status.JobStatus.JobID
	patchJob(t, stateless, `{"spec":{"job":{"args":["--fast"]}}}`)
	after := waitJob(t, stateless, "stateless upgraded", func(j *v1beta1.FlinkSessionJob) bool {
		return runningJob(j) && j.Status.JobStatus.JobID != before
	})
	if sj := simJob(fd, after.Status.JobStatus.JobID); sj == nil || sj.Spec.Restore != nil || !slices.Equal(sj.Spec.Args, []string{"--fast"}) {
		t.Fatalf("stateless upgrade runs %+v, want no restore and the new args", sj)
	}
	awaitCancelled(t, fd, before)
}

// TestManualSavepointOfASessionJob: a new savepointTriggerNonce takes one
// savepoint of the running job, recorded with its nonce, and the job runs
// on undisturbed.
func TestManualSavepointOfASessionJob(t *testing.T) {
	ctx := context.Background()
	fd := sessionCluster(t, ctx, "manual")
	job := upstreamJobs(t, "manual", framework.NewArtifacts(t))[0]
	job.Spec.FlinkConfiguration = &apiextensionsv1.JSON{Raw: []byte(`{"state.savepoints.dir":"file:///flink-data/savepoints"}`)}
	create(t, ctx, job)
	id := waitJob(t, job, "RUNNING", runningJob).Status.JobStatus.JobID
	patchJob(t, job, `{"spec":{"job":{"savepointTriggerNonce":7}}}`)
	got := waitJob(t, job, "the manual savepoint", func(j *v1beta1.FlinkSessionJob) bool {
		info := j.Status.JobStatus.SavepointInfo
		return info != nil && info.LastSavepoint != nil && info.LastSavepoint.TriggerType == v1beta1.TriggerManual && j.Status.ObservedGeneration == j.Generation
	})
	sp := got.Status.JobStatus.SavepointInfo.LastSavepoint
	if sp.Location == "" || sp.TriggerNonce == nil || *sp.TriggerNonce != 7 || got.Status.JobStatus.JobID != id || !runningJob(got) {
		t.Fatalf("savepoint %+v, job %s %s", sp, got.Status.JobStatus.JobID, got.Status.JobStatus.State)
	}
	if sj := simJob(fd, id); sj == nil || sj.SavepointTriggers != 1 {
		t.Fatalf("the session cluster's job %+v: want one savepoint trigger", sj)
	}
}

// TestFailedSessionJobIsReported: a session job whose job fails for good
// shows FAILED with Flink's cause in status.error.
func TestFailedSessionJobIsReported(t *testing.T) {
	ctx := context.Background()
	fd, job, id := runningSessionJob(t, ctx, "failures")
	if err := sim.JobManager(memberName, fd.Namespace, fd.Name).FailJob(id, "java.lang.IllegalStateException: bad record", true); err != nil {
		t.Fatal(err)
	}
	got := waitJob(t, job, "FAILED", func(j *v1beta1.FlinkSessionJob) bool { return j.Status.LifecycleState == v1beta1.LifecycleFailed })
	if p := problem.Decode(got.Status.Error); p.Reason != problem.JobFailed || !strings.Contains(p.Message, "IllegalStateException: bad record") {
		t.Fatalf("status.error %q, want the job's cause", got.Status.Error)
	}
}

// TestSessionJobFromMissingSavepoint: a session job whose
// initialSavepointPath does not exist is refused by Flink (its jar run
// fails: the job could not be initialized), and the job it submitted is
// FAILED. The hub shows the job FAILED with Flink's cause, runs it once
// only, and keeps the savepoint path it was told.
func TestSessionJobFromMissingSavepoint(t *testing.T) {
	ctx := context.Background()
	const missing = "file:///flink-data/savepoints/savepoint-gone"
	fd := sessionCluster(t, ctx, "missing-savepoint")
	job := upstreamJobs(t, "missing-savepoint", framework.NewArtifacts(t))[0]
	job.Spec.Job.InitialSavepointPath = missing
	create(t, ctx, job)
	got := waitJob(t, job, "FAILED with the cause", func(j *v1beta1.FlinkSessionJob) bool {
		p := problem.Decode(j.Status.Error)
		said := p.Message
		for _, c := range p.CauseList() {
			said += "\n" + c.Type + ": " + c.Message
		}
		return j.Status.JobStatus.State == v1beta1.JobFailed && p.Reason == problem.JobFailed &&
			strings.Contains(said, "Cannot find checkpoint or savepoint file/directory '"+missing+"'")
	})
	id := got.Status.JobStatus.JobID
	if got.Status.JobStatus.UpgradeSavepointPath != missing || got.Status.LifecycleState != v1beta1.LifecycleFailed {
		t.Errorf("status %+v: want FAILED, the savepoint path kept", got.Status)
	}
	jm := sim.JobManager(memberName, fd.Namespace, fd.Name)
	framework.Hold(t, 3*time.Second, "the job run once", func() error {
		if runs, _ := jm.JobRequests(id); runs != 1 {
			return errorf("job %s run %d times", id, runs)
		}
		if sj := simJob(fd, id); sj == nil || sj.State != "FAILED" {
			return errorf("job %+v", sj)
		}
		return nil
	})
}

// TestEndedSessionJobIsNotRunAgain: once Flink drops an ended job's
// details (jobstore.expiration-time) its job id still names a job Flink's
// job result store holds. The hub keeps the state it saw and never runs
// the id again: before, it took the missing job for a submission that
// never arrived and ran the jar again and again, each run refused.
func TestEndedSessionJobIsNotRunAgain(t *testing.T) {
	ctx := context.Background()
	fd, job, id := runningSessionJob(t, ctx, "expired")
	jm := sim.JobManager(memberName, fd.Namespace, fd.Name)
	if err := jm.FailJob(id, "java.lang.IllegalStateException: bad record", true); err != nil {
		t.Fatal(err)
	}
	waitJob(t, job, "FAILED", func(j *v1beta1.FlinkSessionJob) bool { return j.Status.JobStatus.State == v1beta1.JobFailed })
	jm.ExpireJobs()
	awaitLookups(t, jm, id, 2, 1)
	got := waitJob(t, job, "status read", func(*v1beta1.FlinkSessionJob) bool { return true })
	if got.Status.JobStatus.State != v1beta1.JobFailed || problem.Decode(got.Status.Error).Reason != problem.JobFailed {
		t.Fatalf("status %+v, want the job FAILED with its cause", got.Status)
	}
}

// awaitLookups waits until the hub looked job id up at least lookups
// times after it expired from jm, then checks that it ran the id runs
// times in all (one more after a lost status write) and not again over
// two more lookups.
func awaitLookups(t *testing.T, jm *jobmanager.JobManager, id string, lookups, runs int) {
	t.Helper()
	framework.Await(t, fmt.Sprintf("the hub looked for the expired job %d times", lookups), func() error {
		if _, misses := jm.JobRequests(id); misses < lookups {
			return errorf("%d lookups", misses)
		}
		return nil
	})
	// A status write that lost a conflict (its cache a write behind, on a
	// loaded machine) has the hub try the run once more, which Flink
	// refuses too; what matters is that the runs stop while it looks on.
	got, misses := jm.JobRequests(id)
	if got < runs || got > runs+1 {
		t.Fatalf("job %s run %d times, want %d (one more after a lost status write)", id, got, runs)
	}
	framework.Await(t, "the hub looked for the expired job twice more", func() error {
		if _, now := jm.JobRequests(id); now < misses+2 {
			return errorf("%d lookups", now)
		}
		return nil
	})
	if again, _ := jm.JobRequests(id); again != got {
		t.Fatalf("job %s run again (%d times, then %d) while the hub kept looking for it", id, got, again)
	}
}

// TestSessionJobProblemsAreReported: a jar that cannot be fetched, a jar
// URI the hub does not fetch and a missing session cluster each reach
// status.error with their reason, and the job runs once the jar is there.
func TestSessionJobProblemsAreReported(t *testing.T) {
	ctx := context.Background()
	sessionCluster(t, ctx, "problems")
	artifacts := framework.NewArtifacts(t)
	jobs := upstreamJobs(t, "problems", artifacts)
	missingJar, badScheme := jobs[0], jobs[1]
	missingJar.Spec.Job.JarURI = artifacts.URL + "/jars/not-yet.jar"
	badScheme.Spec.Job.JarURI = "s3://bucket/job.jar"
	noCluster := jobs[0].DeepCopy()
	noCluster.Name, noCluster.Spec.DeploymentName = "no-cluster", "nowhere"
	// An application cluster (a FlinkDeployment with a job) takes no
	// session jobs.
	app, err := examples.Named("basic/basic-example")
	if err != nil {
		t.Fatal(err)
	}
	app.Namespace, app.Name = "problems", "app-cluster"
	create(t, ctx, app)
	onApp := jobs[0].DeepCopy()
	onApp.Name, onApp.Spec.DeploymentName = "on-app", app.Name
	for _, job := range []*v1beta1.FlinkSessionJob{missingJar, badScheme, noCluster, onApp} {
		create(t, ctx, job)
	}
	for job, want := range map[*v1beta1.FlinkSessionJob]problem.Reason{missingJar: problem.JarUnavailable, badScheme: problem.InvalidSpec, noCluster: problem.SessionClusterUnavailable} {
		waitJob(t, job, string(want), func(j *v1beta1.FlinkSessionJob) bool { return problem.Decode(j.Status.Error).Reason == want })
	}
	waitJob(t, onApp, "refused: an application cluster", func(j *v1beta1.FlinkSessionJob) bool {
		p := problem.Decode(j.Status.Error)
		return p.Reason == problem.InvalidSpec && strings.Contains(p.Message, "spec.deploymentName: app-cluster is an application cluster")
	})
	artifacts.Put("/jars/not-yet.jar", []byte("PK\x03\x04late"))
	waitJob(t, missingJar, "RUNNING once the jar is there", runningJob)
}

// TestDeletingASessionJobCancelsIt: the job is cancelled on the session
// cluster before the FlinkSessionJob goes.
func TestDeletingASessionJobCancelsIt(t *testing.T) {
	ctx := context.Background()
	fd, job, id := runningSessionJob(t, ctx, "deletion")
	if err := fleet.Members[0].Client.Delete(ctx, job); err != nil {
		t.Fatal(err)
	}
	awaitGone(t, job)
	awaitCancelled(t, fd, id)
}

// TestSessionClusterDeletionWaitsForItsJobs: a session cluster with a
// session job is not deleted while the job exists, and says so; once the
// job is deleted (and cancelled through the cluster), the cluster goes.
func TestSessionClusterDeletionWaitsForItsJobs(t *testing.T) {
	ctx := context.Background()
	fd, job, id := runningSessionJob(t, ctx, "blocked")
	c := fleet.Members[0].Client
	if err := c.Delete(ctx, fd); err != nil {
		t.Fatal(err)
	}
	awaitDeletionBlocked(t, fd, job.Name)
	if sj := simJob(fd, id); sj == nil || sj.State != "RUNNING" {
		t.Fatalf("the job under a session cluster being deleted: %+v", sj)
	}
	if err := c.Delete(ctx, job); err != nil {
		t.Fatal(err)
	}
	awaitGone(t, fd)
}

// TestSessionJobDeletionWithJobManagerGone: as a namespace deletion does,
// the session cluster is deleted (held back by its job) and its JobManager
// Deployment goes; the session cluster's status still says READY. The
// session job's deletion finds no JobManager, so nothing to cancel: its
// finalizer goes, then the session cluster's, rather than both waiting on
// a cancel that cannot be answered.
func TestSessionJobDeletionWithJobManagerGone(t *testing.T) {
	ctx := context.Background()
	fd, job, _ := runningSessionJob(t, ctx, "jm-gone")
	c := fleet.Members[0].Client
	if err := c.Delete(ctx, fd); err != nil {
		t.Fatal(err)
	}
	awaitDeletionBlocked(t, fd, job.Name)
	jm := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: fd.Namespace, Name: deployer.JobManagerDeploymentName(fd)}}
	if err := c.Delete(ctx, jm); err != nil {
		t.Fatal(err)
	}
	awaitGone(t, jm)
	if err := c.Delete(ctx, job); err != nil {
		t.Fatal(err)
	}
	awaitGone(t, job)
	awaitGone(t, fd)
}

// TestSessionClusterDeletionWaitsForUnmanagedJobs: a job submitted to a
// session cluster by hand (as Flink's CLI does), which no FlinkSessionJob
// manages, holds the cluster's deletion back, named in its status, as
// upstream's block-on-unmanaged-jobs does; once it is cancelled, the
// cluster goes.
func TestSessionClusterDeletionWaitsForUnmanagedJobs(t *testing.T) {
	ctx := context.Background()
	fd := sessionCluster(t, ctx, "unmanaged")
	jm, err := flinkrest.New(flinkrest.Endpoint{BaseURL: fmt.Sprintf("%s/%s/%s/%s/", simURL, memberName, fd.Namespace, fd.Name), Transport: http.DefaultTransport})
	if err != nil {
		t.Fatal(err)
	}
	jarID, err := jm.UploadJar(ctx, "by-hand.jar", strings.NewReader("PK\x03\x04by hand"))
	if err != nil {
		t.Fatal(err)
	}
	id, err := jm.RunJar(ctx, jarID, api.JarRunRequestBody{EntryClass: "org.example.ByHand"})
	if err != nil {
		t.Fatal(err)
	}
	if err := fleet.Members[0].Client.Delete(ctx, fd); err != nil {
		t.Fatal(err)
	}
	awaitDeletionBlocked(t, fd, id, "block-on-unmanaged-jobs")
	if sj := simJob(fd, id); sj == nil || sj.State == "CANCELED" || sj.State == "FINISHED" || sj.State == "FAILED" {
		t.Fatalf("the unmanaged job under a session cluster being deleted: %+v", sj)
	}
	if err := jm.CancelJob(ctx, id); err != nil {
		t.Fatal(err)
	}
	awaitGone(t, fd)
}

// TestSavepointOnDeletion: with kubernetes.operator.job.savepoint-on-deletion,
// deleting a session job stops it with a savepoint, whose path an event
// names, instead of cancelling it.
func TestSavepointOnDeletion(t *testing.T) {
	ctx := context.Background()
	fd, job, id := runningJobWith(t, ctx, "save-on-delete", "", `{"kubernetes.operator.job.savepoint-on-deletion":"true","state.savepoints.dir":"file:///flink-data/savepoints"}`)
	if err := fleet.Members[0].Client.Delete(ctx, job); err != nil {
		t.Fatal(err)
	}
	awaitGone(t, job)
	sj := simJob(fd, id)
	if sj == nil || sj.State != "FINISHED" || sj.Savepoint == nil || !strings.HasPrefix(sj.Savepoint.Path, "file:///flink-data/savepoints") {
		t.Fatalf("job %+v: want it stopped with a savepoint under the configured directory", sj)
	}
	awaitEvent(t, job, "SavepointCompleted", sj.Savepoint.Path)
}

// TestPeriodicSnapshotsOfASessionJob: periodic savepoints are taken at the
// configured interval, the history kept to its configured count, and a
// new checkpointTriggerNonce takes one checkpoint, recorded with its nonce.
func TestPeriodicSnapshotsOfASessionJob(t *testing.T) {
	ctx := context.Background()
	fd := sessionCluster(t, ctx, "periodic")
	job := upstreamJobs(t, "periodic", framework.NewArtifacts(t))[0]
	job.Spec.FlinkConfiguration = &apiextensionsv1.JSON{Raw: []byte(`{"state.savepoints.dir":"file:///flink-data/savepoints",
		"kubernetes.operator.periodic.savepoint.interval":"1s","kubernetes.operator.savepoint.history.max.count":"2"}`)}
	create(t, ctx, job)
	id := waitJob(t, job, "RUNNING", runningJob).Status.JobStatus.JobID
	// The history and the disposals are compared between two savepoints:
	// while one completes, the hub has disposed of the dropped one before
	// its status says so.
	got := waitJob(t, job, "three periodic savepoints, two kept, the dropped ones disposed of, never a kept one", func(j *v1beta1.FlinkSessionJob) bool {
		info := j.Status.JobStatus.SavepointInfo
		sj := simJob(fd, id)
		disposed := sim.JobManager(memberName, fd.Namespace, fd.Name).Disposed()
		if info == nil || len(info.SavepointHistory) != 2 || sj == nil || sj.SavepointTriggers < 3 || len(disposed) == 0 {
			return false
		}
		for _, sp := range info.SavepointHistory {
			if slices.Contains(disposed, sp.Location) {
				return false
			}
		}
		return true
	})
	for _, sp := range got.Status.JobStatus.SavepointInfo.SavepointHistory {
		if sp.TriggerType != v1beta1.TriggerPeriodic || sp.Location == "" {
			t.Errorf("history entry %+v: want a periodic savepoint with its path", sp)
		}
	}
	// The savepoints are recorded as snapshots too, and the snapshots of
	// the disposed ones deleted.
	framework.Await(t, "snapshots of the kept savepoints only", func() error {
		var snaps v1beta1.FlinkStateSnapshotList
		if err := fleet.Members[0].Client.List(ctx, &snaps, client.InNamespace(job.Namespace), client.MatchingLabels{"flink-hub.io/job": job.Name}); err != nil {
			return err
		}
		for _, s := range snaps.Items {
			if slices.Contains(sim.JobManager(memberName, fd.Namespace, fd.Name).Disposed(), s.Spec.Savepoint.Path) {
				return errorf("snapshot %s names the disposed savepoint %s", s.Name, s.Spec.Savepoint.Path)
			}
		}
		if len(snaps.Items) == 0 {
			return errorf("no snapshot recorded")
		}
		return nil
	})
	patchJob(t, job, `{"spec":{"job":{"checkpointTriggerNonce":3}}}`)
	got = waitJob(t, job, "the manual checkpoint", func(j *v1beta1.FlinkSessionJob) bool {
		info := j.Status.JobStatus.CheckpointInfo
		return info != nil && info.LastCheckpoint != nil && info.LastCheckpoint.TriggerType == v1beta1.TriggerManual
	})
	if cp := got.Status.JobStatus.CheckpointInfo.LastCheckpoint; cp.TriggerNonce == nil || *cp.TriggerNonce != 3 || !runningJob(got) {
		t.Fatalf("checkpoint %+v, job %s", cp, got.Status.JobStatus.State)
	}
}

// TestCheckpointTriggersNeedFlink117: a session cluster of Flink before
// 1.17 cannot take a checkpoint on request (its REST API answers 404).
// The hub asks nothing of it: the periodic checkpoints configured and a
// manual one are reported in status.error, and the job runs on.
func TestCheckpointTriggersNeedFlink117(t *testing.T) {
	ctx := context.Background()
	fd := sessionClusterOf(t, ctx, "checkpoint-1-16", "", func(fd *v1beta1.FlinkDeployment) {
		fd.Spec.Image, fd.Spec.FlinkVersion = "flink:1.16", "v1_16"
	})
	job := upstreamJobs(t, "checkpoint-1-16", framework.NewArtifacts(t))[0]
	job.Spec.FlinkConfiguration = &apiextensionsv1.JSON{Raw: []byte(`{"kubernetes.operator.periodic.checkpoint.interval":"1s"}`)}
	create(t, ctx, job)
	reported := func(kind string) func(*v1beta1.FlinkSessionJob) bool {
		return func(j *v1beta1.FlinkSessionJob) bool {
			p := problem.Decode(j.Status.Error)
			return j.Status.JobStatus.State == v1beta1.JobRunning && p.Reason == problem.CheckpointFailed &&
				strings.Contains(p.Message, kind+" checkpoint not triggered: Flink 1.16 cannot take a checkpoint on request")
		}
	}
	id := waitJob(t, job, "the periodic checkpoints refused", reported("periodic")).Status.JobStatus.JobID
	patchJob(t, job, `{"spec":{"job":{"checkpointTriggerNonce":3}}}`)
	waitJob(t, job, "the manual checkpoint refused", reported("manual"))
	framework.Hold(t, 3*time.Second, "no checkpoint trigger sent to Flink 1.16", func() error {
		if n := sim.JobManager(memberName, fd.Namespace, fd.Name).CheckpointTriggerRequests(id); n != 0 {
			return errorf("%d checkpoint triggers sent", n)
		}
		if sj := simJob(fd, id); sj == nil || sj.State != "RUNNING" {
			return errorf("job %+v", sj)
		}
		return nil
	})
}

// TestJobConfigurationByFlinkVersion: Flink takes a session job's
// configuration with the jar run from 1.17 on; an older Flink refuses a
// jar run that has it (400, an unknown body field). The hub sends it to
// Flink 1.17 and newer; to 1.15 and 1.16 it sends none, as upstream, the
// job runs, and a warning event names the keys not applied (the hub's own
// kubernetes.operator.* keys apply, never named).
func TestJobConfigurationByFlinkVersion(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		image   string
		version v1beta1.FlinkVersion
		sent    bool
	}{{"flink:1.15", "v1_15", false}, {"flink:1.16", "v1_16", false}, {"flink:1.17", "v1_17", true}, {"flink:1.19", "v1_19", true}} {
		t.Run(string(tc.version), func(t *testing.T) {
			ns := "conf-" + strings.ReplaceAll(string(tc.version), "_", "-")
			fd := sessionClusterOf(t, ctx, ns, "", func(fd *v1beta1.FlinkDeployment) {
				fd.Spec.Image, fd.Spec.FlinkVersion = tc.image, tc.version
			})
			job := upstreamJobs(t, ns, framework.NewArtifacts(t))[0]
			job.Spec.FlinkConfiguration = &apiextensionsv1.JSON{Raw: []byte(`{"pipeline.max-parallelism":"64","kubernetes.operator.savepoint.history.max.count":"3"}`)}
			create(t, ctx, job)
			id := waitJob(t, job, "RUNNING", runningJob).Status.JobStatus.JobID
			sj := simJob(fd, id)
			if sj == nil {
				t.Fatalf("the session cluster does not run %s", id)
			}
			if got := sj.Spec.Configuration["pipeline.max-parallelism"]; (got == "64") != tc.sent || (!tc.sent && sj.Spec.Configuration != nil) {
				t.Fatalf("the jar run passed configuration %v; sent wanted: %v", sj.Spec.Configuration, tc.sent)
			}
			if !tc.sent {
				awaitEvent(t, job, "FlinkConfigurationNotApplied", "runs Flink "+tc.version.Number()+", whose jar run takes no configuration")
				awaitEvent(t, job, "FlinkConfigurationNotApplied", "Not applied: pipeline.max-parallelism.")
			}
		})
	}
}

// TestUnsentTriggerIsSentAgain: a replica that recorded the upgrade's
// savepoint trigger and stopped before Flink heard of it leaves a trigger
// Flink does not know while the job runs. The hub sends it again, same
// id: one savepoint, and the upgrade finishes from it.
func TestUnsentTriggerIsSentAgain(t *testing.T) {
	ctx := context.Background()
	fd, job, id := runningSessionJob(t, ctx, "unsent")
	c := fleet.Members[0].Client
	got := &v1beta1.FlinkSessionJob{}
	if err := c.Get(ctx, client.ObjectKeyFromObject(job), got); err != nil {
		t.Fatal(err)
	}
	// What the stopped replica left: UPGRADING, the trigger recorded.
	const trigger = "0123456789abcdef0123456789abcdef"
	now := time.Now().UnixMilli()
	got.Status.ReconciliationStatus.State = v1beta1.ReconciliationUpgrading
	got.Status.JobStatus.SavepointInfo = &v1beta1.SavepointInfo{TriggerID: trigger, TriggerType: v1beta1.TriggerUpgrade, TriggerTimestamp: &now, FormatType: v1beta1.SavepointFormatCanonical}
	got.Spec.FlinkConfiguration = &apiextensionsv1.JSON{Raw: []byte(`{"state.savepoints.dir":"file:///flink-data/savepoints"}`)}
	if err := c.Status().Update(ctx, got); err != nil {
		t.Fatal(err)
	}
	patchJob(t, job, `{"spec":{"flinkConfiguration":{"state.savepoints.dir":"file:///flink-data/savepoints"},"job":{"upgradeMode":"savepoint","parallelism":2}}}`)
	upgraded := waitJob(t, job, "upgraded", func(j *v1beta1.FlinkSessionJob) bool {
		return runningJob(j) && j.Status.JobStatus.JobID != id
	})
	old := simJob(fd, id)
	if old == nil || old.SavepointTriggers != 1 {
		t.Fatalf("the old job %+v: one savepoint trigger wanted, the one recorded", old)
	}
	if sj := simJob(fd, upgraded.Status.JobStatus.JobID); sj == nil || sj.Spec.Restore == nil || sj.Spec.Restore.Path != upgraded.Status.JobStatus.UpgradeSavepointPath {
		t.Fatalf("the upgraded job %+v must run from the savepoint %q", sj, upgraded.Status.JobStatus.UpgradeSavepointPath)
	}
}

// awaitEvent waits for an event on obj with reason and a note containing
// text.
func awaitEvent(t *testing.T, obj client.Object, reason, text string) {
	t.Helper()
	framework.Await(t, "event "+reason, func() error {
		var evs eventsv1.EventList
		if err := fleet.Members[0].Client.List(context.Background(), &evs, client.InNamespace(obj.GetNamespace())); err != nil {
			return err
		}
		for _, e := range evs.Items {
			if e.Regarding.Name == obj.GetName() && e.Reason == reason && strings.Contains(e.Note, text) {
				return nil
			}
		}
		return errorf("%d events, none %s with %q", len(evs.Items), reason, text)
	})
}

// awaitDeletionBlocked waits until the session cluster fd, being deleted,
// says in its status that its deletion is blocked, naming each of names.
func awaitDeletionBlocked(t *testing.T, fd *v1beta1.FlinkDeployment, names ...string) {
	t.Helper()
	framework.Await(t, "the deletion reported as blocked", func() error {
		got := &v1beta1.FlinkDeployment{}
		if err := fleet.Members[0].Client.Get(context.Background(), client.ObjectKeyFromObject(fd), got); err != nil {
			return err
		}
		p := problem.Decode(got.Status.Error)
		if p.Reason != problem.DeletionBlocked {
			return errorf("status.error %q", got.Status.Error)
		}
		for _, name := range names {
			if !strings.Contains(p.Message, name) {
				return errorf("status.error %q does not name %s", got.Status.Error, name)
			}
		}
		return nil
	})
}

// TestDeploymentNameIsNotChanged: a running session job whose
// spec.deploymentName is changed to another session cluster is refused as
// upstream refuses it (InvalidSpec in status.error and the Ready condition,
// an event) and nothing is touched: the job keeps running on its session
// cluster, none is started on the other. Set back, the job is Ready again.
func TestDeploymentNameIsNotChanged(t *testing.T) {
	ctx := context.Background()
	first, job, id := runningSessionJob(t, ctx, "moved")
	other := namedSessionCluster(t, ctx, "moved", "other-session")
	patchJob(t, job, `{"spec":{"deploymentName":"other-session"}}`)
	got := waitJob(t, job, "InvalidSpec", func(j *v1beta1.FlinkSessionJob) bool {
		return problem.Decode(j.Status.Error).Is(problem.InvalidSpec) && j.Status.ObservedGeneration < j.Generation
	})
	ready := meta.FindStatusCondition(got.Status.Conditions, flinkdeployment.ConditionReady)
	if ready == nil || ready.Reason != string(problem.InvalidSpec) || !strings.Contains(ready.Message, "deploymentName can't be changed") {
		t.Errorf("Ready condition %+v, want InvalidSpec naming deploymentName", ready)
	}
	awaitEvent(t, job, problem.Problem{Reason: problem.InvalidSpec}.EventReason(), "deploymentName can't be changed")
	if sj := simJob(first, id); sj == nil || sj.State != "RUNNING" || got.Status.JobStatus.JobID != id {
		t.Fatalf("job %s on %s: %+v (status names %s), want it running untouched", id, first.Name, sj, got.Status.JobStatus.JobID)
	}
	if jobs := sim.JobManager(memberName, other.Namespace, other.Name).Jobs(); len(jobs) != 0 {
		t.Fatalf("jobs started on %s: %+v", other.Name, jobs)
	}
	patchJob(t, job, `{"spec":{"deploymentName":"`+first.Name+`"}}`)
	waitJob(t, job, "running again, error cleared", func(j *v1beta1.FlinkSessionJob) bool {
		return runningJob(j) && j.Status.JobStatus.JobID == id
	})
}

// TestRestoreModeReachesJobManager: the restore mode configured for a
// session job, in its own configuration or its session cluster's, goes to
// the session cluster's JobManager with the savepoint path the job
// restores from, in the jar run's field of that cluster's Flink version:
// restoreMode (1.15 to 1.19), claimMode (1.20 on), never one the version
// refuses. Before, no mode was sent: a job restored NO_CLAIM whatever was
// configured (and on 1.15 and 1.16, which take no configuration with the
// jar run, the mode could not be set at all).
func TestRestoreModeReachesJobManager(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		image                  string
		version                v1beta1.FlinkVersion
		job, session           string // configuration entries, JSON
		restoreMode, claimMode string
	}{
		{"flink:1.16", "v1_16", `"execution.savepoint-restore-mode":"claim"`, "", "CLAIM", ""},
		{"flink:1.19", "v1_19", "", `"execution.savepoint-restore-mode":"LEGACY"`, "LEGACY", ""},
		{"flink:1.20", "v1_20", `"execution.state-recovery.claim-mode":"CLAIM"`, "", "", "CLAIM"},
	} {
		t.Run(string(tc.version), func(t *testing.T) {
			ns := "restore-" + strings.ReplaceAll(string(tc.version), "_", "-")
			fd := sessionClusterOf(t, ctx, ns, "", func(fd *v1beta1.FlinkDeployment) {
				fd.Spec.Image, fd.Spec.FlinkVersion = tc.image, tc.version
				if tc.session != "" {
					fd.Spec.FlinkConfiguration = &apiextensionsv1.JSON{Raw: []byte("{" + tc.session + "}")}
				}
			})
			job := upstreamJobs(t, ns, framework.NewArtifacts(t))[0]
			create(t, ctx, job)
			id := waitJob(t, job, "RUNNING", runningJob).Status.JobStatus.JobID
			conf := `"state.savepoints.dir":"file:///flink-data/savepoints"`
			if tc.job != "" {
				conf += "," + tc.job
			}
			patchJob(t, job, `{"spec":{"flinkConfiguration":{`+conf+`},"job":{"upgradeMode":"savepoint","parallelism":2}}}`)
			upgraded := waitJob(t, job, "upgraded from a savepoint", func(j *v1beta1.FlinkSessionJob) bool {
				return runningJob(j) && j.Status.JobStatus.JobID != id && j.Status.JobStatus.UpgradeSavepointPath != ""
			})
			sj := simJob(fd, upgraded.Status.JobStatus.JobID)
			if sj == nil || sj.Spec.Restore == nil || sj.Spec.Restore.Path != upgraded.Status.JobStatus.UpgradeSavepointPath {
				t.Fatalf("the upgraded job %+v must run from the savepoint %q", sj, upgraded.Status.JobStatus.UpgradeSavepointPath)
			}
			if r := sj.Spec.Restore; r.RestoreMode != tc.restoreMode || r.ClaimMode != tc.claimMode {
				t.Fatalf("the jar run asked restoreMode %q claimMode %q; want %q %q", r.RestoreMode, r.ClaimMode, tc.restoreMode, tc.claimMode)
			}
		})
	}
}

// TestInvalidRestoreMode: a restore mode that is none, set in the session
// job's configuration, is refused before anything is done (InvalidSpec in
// status.error and the Ready condition; the job runs on untouched). One
// set in the session cluster's configuration is found at the jar run: the
// jar is not run, status.error names where the mode was set, and the
// savepoint path to restore from stays recorded.
func TestInvalidRestoreMode(t *testing.T) {
	ctx := context.Background()
	t.Run("session job", func(t *testing.T) {
		fd, job, id := runningSessionJob(t, ctx, "bad-mode-job")
		patchJob(t, job, `{"spec":{"flinkConfiguration":{"execution.savepoint-restore-mode":"sometimes"},"job":{"upgradeMode":"savepoint","parallelism":2}}}`)
		got := waitJob(t, job, "InvalidSpec", func(j *v1beta1.FlinkSessionJob) bool {
			p := problem.Decode(j.Status.Error)
			return p.Is(problem.InvalidSpec) && strings.Contains(p.Message, `spec.flinkConfiguration[execution.savepoint-restore-mode]: Invalid value: "": "sometimes" is not a restore mode`)
		})
		ready := meta.FindStatusCondition(got.Status.Conditions, flinkdeployment.ConditionReady)
		if ready == nil || ready.Reason != string(problem.InvalidSpec) {
			t.Errorf("Ready condition %+v, want InvalidSpec", ready)
		}
		if sj := simJob(fd, id); sj == nil || sj.State != "RUNNING" || got.Status.JobStatus.JobID != id {
			t.Fatalf("job %s: %+v (status names %s), want it running untouched", id, sj, got.Status.JobStatus.JobID)
		}
	})
	t.Run("session cluster", func(t *testing.T) {
		const from = "file:///flink-data/savepoints/savepoint-kept"
		fd := sessionClusterOf(t, ctx, "bad-mode-session", "", func(fd *v1beta1.FlinkDeployment) {
			fd.Spec.FlinkConfiguration = &apiextensionsv1.JSON{Raw: []byte(`{"execution.state-recovery.claim-mode":"sometimes"}`)}
		})
		job := upstreamJobs(t, "bad-mode-session", framework.NewArtifacts(t))[0]
		job.Spec.Job.InitialSavepointPath = from
		create(t, ctx, job)
		got := waitJob(t, job, "InvalidSpec naming the session cluster", func(j *v1beta1.FlinkSessionJob) bool {
			p := problem.Decode(j.Status.Error)
			return p.Is(problem.InvalidSpec) && strings.Contains(p.Message,
				`invalid configuration: session cluster `+fd.Name+`'s spec.flinkConfiguration: execution.state-recovery.claim-mode: "sometimes" is not a restore mode`)
		})
		if js := got.Status.JobStatus; js.UpgradeSavepointPath != from || js.State != v1beta1.JobReconciling {
			t.Errorf("job status %+v: want RECONCILING, the savepoint path %s kept", js, from)
		}
		framework.Hold(t, 2*time.Second, "no jar run", func() error {
			if runs, _ := sim.JobManager(memberName, fd.Namespace, fd.Name).JobRequests(got.Status.JobStatus.JobID); runs != 0 {
				return errorf("job run %d times", runs)
			}
			return nil
		})
	})
}

// TestOperatorOnlyChangesRestartNothing: a change of a running session
// job's spec that only steers the operator (the upgrade mode, an
// operator setting) is recorded (lastReconciledSpec, observedGeneration,
// a SpecChanged event) and its setting applies, while the job runs on
// under its id, as upstream's spec diff ignores such changes. Before, any
// change stopped and resubmitted the job.
func TestOperatorOnlyChangesRestartNothing(t *testing.T) {
	ctx := context.Background()
	fd, job, id := runningJobWith(t, ctx, "operator-only", v1beta1.UpgradeModeStateless, `{"execution.checkpointing.interval":"1 s"}`)
	patchJob(t, job, `{"spec":{"job":{"upgradeMode":"last-state"},"flinkConfiguration":{"kubernetes.operator.periodic.savepoint.interval":"1 h"}}}`)
	got := waitJob(t, job, "the new spec recorded", func(j *v1beta1.FlinkSessionJob) bool {
		return j.Status.ObservedGeneration == j.Generation && strings.Contains(j.Status.ReconciliationStatus.LastReconciledSpec, `"upgradeMode":"last-state"`) &&
			strings.Contains(j.Status.ReconciliationStatus.LastReconciledSpec, "periodic.savepoint.interval")
	})
	if got.Status.JobStatus.JobID != id || got.Status.JobStatus.State != v1beta1.JobRunning || got.Status.ReconciliationStatus.State != v1beta1.ReconciliationDeployed {
		t.Errorf("job %s %s, reconciliation %s: want job %s running on", got.Status.JobStatus.JobID, got.Status.JobStatus.State, got.Status.ReconciliationStatus.State, id)
	}
	if jobs := sim.JobManager(memberName, fd.Namespace, fd.Name).Jobs(); len(jobs) != 1 || jobs[0].ID != id || jobs[0].State != "RUNNING" {
		t.Errorf("session cluster's jobs %+v, want only %s, running", jobs, id)
	}
	if len(eventsOf(t, got, "SpecChanged")) == 0 {
		t.Error("no SpecChanged event")
	}
}

// TestSavepointRedeployOfASessionJob: a new job.savepointRedeployNonce
// cancels a running session job, whatever its upgrade mode (savepoint
// here: no stop-with-savepoint is taken), and starts the new spec from
// job.initialSavepointPath, as upstream's savepoint redeploy, which
// session jobs get too. Before, the nonce was a regular upgrade: the job
// was stopped with a new savepoint and restarted from it, not from the
// savepoint the user named.
func TestSavepointRedeployOfASessionJob(t *testing.T) {
	ctx := context.Background()
	fd, job, id := runningJobWith(t, ctx, "redeploy", v1beta1.UpgradeModeSavepoint, `{"state.savepoints.dir":"file:///flink-data/savepoints"}`)
	patchJob(t, job, `{"spec":{"job":{"savepointTriggerNonce":1}}}`)
	saved := waitJob(t, job, "a savepoint to redeploy from", func(j *v1beta1.FlinkSessionJob) bool {
		info := j.Status.JobStatus.SavepointInfo
		return info != nil && info.LastSavepoint != nil && info.LastSavepoint.TriggerType == v1beta1.TriggerManual
	}).Status.JobStatus.SavepointInfo.LastSavepoint.Location
	patchJob(t, job, `{"spec":{"job":{"savepointRedeployNonce":1,"initialSavepointPath":"`+saved+`"}}}`)
	got := waitJob(t, job, "redeployed", func(j *v1beta1.FlinkSessionJob) bool {
		return runningJob(j) && j.Status.JobStatus.JobID != id && j.Status.ObservedGeneration == j.Generation
	})
	if got.Status.JobStatus.UpgradeSavepointPath != saved {
		t.Errorf("upgradeSavepointPath %q, want %q", got.Status.JobStatus.UpgradeSavepointPath, saved)
	}
	if sj := simJob(fd, got.Status.JobStatus.JobID); sj == nil || sj.Spec.Restore == nil || sj.Spec.Restore.Path != saved {
		t.Errorf("the redeployed job %+v, want it restored from %s", sj, saved)
	}
	if old := simJob(fd, id); old == nil || old.State != "CANCELED" || old.SavepointTriggers != 1 {
		t.Errorf("the old job %+v, want it cancelled with only the manual savepoint taken", old)
	}
	if len(eventsOf(t, got, "SavepointRedeploy")) == 0 {
		t.Error("no SavepointRedeploy event")
	}
}

// TestSavepointRedeployOfASuspendedSessionJob: a new
// job.savepointRedeployNonce on a suspended session job, set while it
// stays suspended or with the resume itself, starts the resumed job from
// job.initialSavepointPath, as upstream checks a savepoint redeploy before
// the resume (the FlinkDeployment plan's redeployCases). The hub recorded
// the nonce and resumed from the suspend's savepoint, not the savepoint
// the user named.
func TestSavepointRedeployOfASuspendedSessionJob(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		ns      string
		patches []string // %q: the manual savepoint's path
	}{
		{"redeploy-suspended", []string{`{"spec":{"job":{"savepointRedeployNonce":1,"initialSavepointPath":%q}}}`, `{"spec":{"job":{"state":"running"}}}`}},
		{"redeploy-on-resume", []string{`{"spec":{"job":{"savepointRedeployNonce":1,"initialSavepointPath":%q,"state":"running"}}}`}},
	} {
		t.Run(tc.ns, func(t *testing.T) {
			fd, job, id := runningJobWith(t, ctx, tc.ns, v1beta1.UpgradeModeSavepoint, `{"state.savepoints.dir":"file:///flink-data/savepoints"}`)
			patchJob(t, job, `{"spec":{"job":{"savepointTriggerNonce":1}}}`)
			saved := waitJob(t, job, "a savepoint to redeploy from", func(j *v1beta1.FlinkSessionJob) bool {
				info := j.Status.JobStatus.SavepointInfo
				return info != nil && info.LastSavepoint != nil && info.LastSavepoint.TriggerType == v1beta1.TriggerManual
			}).Status.JobStatus.SavepointInfo.LastSavepoint.Location
			patchJob(t, job, `{"spec":{"job":{"state":"suspended"}}}`)
			suspendedFrom := waitJob(t, job, "SUSPENDED", func(j *v1beta1.FlinkSessionJob) bool {
				return j.Status.LifecycleState == v1beta1.LifecycleSuspended && j.Status.JobStatus.UpgradeSavepointPath != ""
			}).Status.JobStatus.UpgradeSavepointPath
			if suspendedFrom == saved {
				t.Fatalf("the suspend's savepoint is the manual one, %s: the test cannot tell them apart", saved)
			}
			for i, p := range tc.patches {
				if strings.Contains(p, "%q") {
					p = fmt.Sprintf(p, saved)
				}
				patchJob(t, job, p)
				if i < len(tc.patches)-1 {
					waitJob(t, job, "the patch reconciled", func(j *v1beta1.FlinkSessionJob) bool { return j.Status.ObservedGeneration == j.Generation })
				}
			}
			got := waitJob(t, job, "resumed", func(j *v1beta1.FlinkSessionJob) bool {
				return runningJob(j) && j.Status.JobStatus.JobID != id && j.Status.ObservedGeneration == j.Generation
			})
			if sj := simJob(fd, got.Status.JobStatus.JobID); restoreOf(sj) != saved {
				t.Errorf("the resumed job %+v ran from %q, want job.initialSavepointPath %s (the suspend's savepoint is %s)", sj, restoreOf(sj), saved, suspendedFrom)
			}
			if got.Status.JobStatus.UpgradeSavepointPath != saved {
				t.Errorf("upgradeSavepointPath %q, want %q", got.Status.JobStatus.UpgradeSavepointPath, saved)
			}
		})
	}
}
