package flinkdeployment_test

import (
	"context"
	"encoding/json"
	"github.com/flink-hub/flink-hub/internal/controllers/flinkdeployment"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/e2e/flinksim"
	"github.com/flink-hub/flink-hub/e2e/flinksim/jobmanager"
	"github.com/flink-hub/flink-hub/internal/problem"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// restartFailed turns on the setting that restarts failed jobs; like every
// kubernetes.operator.* key it redeploys nothing by itself.
const restartFailed = `{"spec":{"flinkConfiguration":{"kubernetes.operator.job.restart.failed":"true"}}}`

// failJob makes fd's running job fail for good in the simulator. It
// returns the path of the newest (by id) of the failed job's latest
// checkpoint and savepoint, "" for none: where upstream restarts it.
func failJob(t *testing.T, fd *v1beta1.FlinkDeployment, cause string) string {
	t.Helper()
	job := simJob(fd)
	if job == nil {
		t.Fatal("no simulated job")
	}
	jm := sim.JobManager(memberName, fd.Namespace, fd.Name)
	if err := jm.FailJob(job.ID, cause, true); err != nil {
		t.Fatal(err)
	}
	// A failing job completes no checkpoint: what it retained is final.
	for _, j := range jm.Jobs() {
		if j.ID == job.ID {
			return newestRetained(j)
		}
	}
	t.Fatalf("job %s is gone", job.ID)
	return ""
}

// newestRetained is the path of the newest (by id) of job's latest
// checkpoint and savepoint, "" for none.
func newestRetained(job jobmanager.JobStatus) string {
	var id int64 = -1
	path := ""
	if n := len(job.Checkpoints); n > 0 {
		id, path = job.Checkpoints[n-1].ID, job.Checkpoints[n-1].Path
	}
	if sp := job.Savepoint; sp != nil && sp.ID > id {
		path = sp.Path
	}
	return path
}

// jobManagerUID is the UID of fd's JobManager Deployment, "" while there is
// none.
func jobManagerUID(ctx context.Context, fd *v1beta1.FlinkDeployment) types.UID {
	dep := &appsv1.Deployment{}
	if err := fleet.Members[0].Client.Get(ctx, client.ObjectKeyFromObject(fd), dep); err != nil {
		return ""
	}
	return dep.UID
}

// TestFailedJobIsReportedThenRestartedFromItsSavepoint fails a job for good:
// by default the hub reports the cause and leaves the cluster alone; once
// kubernetes.operator.job.restart.failed is on, it redeploys the job from
// its latest retained state, as upstream: its last savepoint, or a
// checkpoint completed after it.
func TestFailedJobIsReportedThenRestartedFromItsSavepoint(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	fd := deployRunning(t, ctx, haExample(t, "failed-job", v1beta1.UpgradeModeSavepoint))
	patchSpec(t, ctx, fd, `{"spec":{"job":{"savepointTriggerNonce":1}}}`)
	withSavepoint := waitFor(t, ctx, fd, time.Minute, "a manual savepoint", func(fd *v1beta1.FlinkDeployment) bool {
		info := fd.Status.JobStatus.SavepointInfo
		return info != nil && info.LastSavepoint != nil && info.LastSavepoint.Location != "" && fd.Status.ObservedGeneration == fd.Generation
	})
	savepoint := withSavepoint.Status.JobStatus.SavepointInfo.LastSavepoint.Location
	jm := jobManagerUID(ctx, fd)

	latest := failJob(t, fd, "java.lang.IllegalStateException: bad record at offset 42")
	const wantErr = "Job failed: java.lang.IllegalStateException: bad record at offset 42"
	got := waitFor(t, ctx, fd, time.Minute, "the failure reported", func(fd *v1beta1.FlinkDeployment) bool {
		return fd.Status.LifecycleState == v1beta1.LifecycleFailed && failure(fd) == problem.New(problem.JobFailed, wantErr)
	})
	if ready := meta.FindStatusCondition(got.Status.Conditions, flinkdeployment.ConditionReady); ready == nil || ready.Status != metav1.ConditionFalse || ready.Reason != string(problem.JobFailed) || ready.Message != wantErr {
		t.Errorf("Ready condition %+v, want False for JobFailed with the cause", ready)
	}
	if running := meta.FindStatusCondition(got.Status.Conditions, flinkdeployment.ConditionRunning); running == nil || running.Status != metav1.ConditionFalse || running.Reason != string(v1beta1.JobFailed) {
		t.Errorf("Running condition %+v, want False for FAILED", running)
	}
	if got.Status.JobStatus.State != v1beta1.JobFailed {
		t.Errorf("job state %s, want FAILED", got.Status.JobStatus.State)
	}
	if !hasEvent(ctx, fd, "JobFailed") {
		t.Error("no JobFailed event")
	}
	if jobManagerUID(ctx, fd) != jm || hasEvent(ctx, fd, "RestartFailedJob") {
		t.Fatal("a failed job was restarted with kubernetes.operator.job.restart.failed unset")
	}

	patchSpec(t, ctx, fd, restartFailed)
	restarted := waitFor(t, ctx, fd, 2*time.Minute, "restarted", func(got *v1beta1.FlinkDeployment) bool {
		uid := jobManagerUID(ctx, fd)
		return running(got) && uid != "" && uid != jm && got.Status.ObservedGeneration == got.Generation
	})
	if restarted.Status.Error != "" {
		t.Errorf("status.error after the restart: %q", failure(restarted).Message)
	}
	if !hasEvent(ctx, fd, "RestartFailedJob") {
		t.Error("no RestartFailedJob event")
	}
	if job := simJob(fd); job == nil || job.State != "RUNNING" || restorePath(job) != latest || latest == "" {
		t.Errorf("the restarted job must run from the failed job's latest state %s (savepoint %s), not %s: %+v", latest, savepoint, restorePath(job), job)
	}
	if info := restarted.Status.JobStatus.SavepointInfo; info == nil || info.LastSavepoint == nil || info.LastSavepoint.Location != savepoint {
		t.Errorf("the savepoint %s is no longer recorded: %+v", savepoint, info)
	}
}

// TestFailedJobErrorAsConfigured: upstream's exception settings shape
// status.error: with the stack trace enabled and a label mapper, a failed
// job's status.error carries Flink's stack trace and the label of the
// pattern its message matches.
func TestFailedJobErrorAsConfigured(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	fd := deployRunning(t, ctx, withSettings(haExample(t, "error-shape", v1beta1.UpgradeModeSavepoint),
		`"kubernetes.operator.exception.stacktrace.enabled":"true","kubernetes.operator.exception.label.mapper":"bad record:bad-data,never matches:other"`))
	failJob(t, fd, "java.lang.IllegalStateException: bad record at offset 42")
	got := waitFor(t, ctx, fd, time.Minute, "the failure reported", func(fd *v1beta1.FlinkDeployment) bool {
		return failure(fd).Reason == problem.JobFailed
	})
	var e struct {
		StackTrace         string         `json:"stackTrace"`
		AdditionalMetadata map[string]any `json:"additionalMetadata"`
	}
	if err := json.Unmarshal([]byte(got.Status.Error), &e); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(e.StackTrace, "Simulated.java") {
		t.Errorf("status.error has no stack trace: %s", got.Status.Error)
	}
	if labels, _ := e.AdditionalMetadata["labels"].([]any); len(labels) != 1 || labels[0] != "bad-data" {
		t.Errorf("labels %v, want [bad-data]", e.AdditionalMetadata["labels"])
	}
}

// TestFailedLastStateJobWithoutSavepointRestartsFromItsLatestCheckpoint:
// with no savepoint and the failed job's HA metadata removed by Flink, a
// last-state job restarts from the latest checkpoint Flink reports of the
// failed job, as upstream does (SnapshotObserver.observeLatestCheckpoint
// records it, resubmitJob restores from it), instead of asking for a
// manual restore. It used to restart with empty state, losing the state
// checkpointed.
func TestFailedLastStateJobWithoutSavepointRestartsFromItsLatestCheckpoint(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	fd := deployRunning(t, ctx, haExample(t, "failed-last-state", v1beta1.UpgradeModeLastState))
	patchSpec(t, ctx, fd, restartFailed)
	waitFor(t, ctx, fd, time.Minute, "the setting recorded", func(got *v1beta1.FlinkDeployment) bool {
		return got.Status.ObservedGeneration == got.Generation && running(got)
	})
	jm := jobManagerUID(ctx, fd)

	latest := failJob(t, fd, "java.lang.OutOfMemoryError: Java heap space")
	restarted := waitFor(t, ctx, fd, 2*time.Minute, "restarted", func(got *v1beta1.FlinkDeployment) bool {
		uid := jobManagerUID(ctx, fd)
		return running(got) && uid != "" && uid != jm
	})
	if restarted.Status.Error != "" {
		t.Errorf("status.error after the restart: %q", failure(restarted).Message)
	}
	if job := simJob(fd); job == nil || job.State != "RUNNING" || latest == "" || restorePath(job) != latest {
		t.Errorf("the restarted job must run from the failed job's latest checkpoint %s, not %q: %+v", latest, restorePath(job), job)
	}
	if got := restarted.Status.JobStatus.UpgradeSavepointPath; got != latest {
		t.Errorf("upgradeSavepointPath %q, want %q", got, latest)
	}
}

// TestJobManagerThatCannotMountAVolumeIsReportedAtOnce: a JobManager pod
// whose template mounts a Secret that does not exist waits in
// ContainerCreating; the kubelet's FailedMount event is the JobManager's
// ERROR, with the kubelet's message, within a few progress checks, as
// upstream reports it, not at the readiness timeout (here 10 minutes, far
// beyond the test). Once the Secret exists the JobManager starts and the
// error clears.
func TestJobManagerThatCannotMountAVolumeIsReportedAtOnce(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// Merged by name: the example's pod template has a volume of its own.
	fd := withSettings(haExample(t, "missing-secret", v1beta1.UpgradeModeSavepoint),
		`"kubernetes.operator.deployment.readiness.timeout":"10 min","kubernetes.operator.pod-template.merge-arrays-by-name":"true"`)
	fd.Spec.JobManager.PodTemplate = &corev1.Pod{Spec: corev1.PodSpec{Volumes: []corev1.Volume{
		{Name: "creds", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "missing-secret-creds"}}},
	}}}
	create(t, ctx, fd)
	const want = `JobManager deployment missing-secret failed: MountVolume.SetUp failed for volume "creds" : secret "missing-secret-creds" not found`
	got := waitFor(t, ctx, fd, 30*time.Second, "ERROR naming the volume", func(fd *v1beta1.FlinkDeployment) bool {
		return fd.Status.JobManagerDeploymentStatus == v1beta1.JobManagerError && fd.Status.Error != ""
	})
	if p := failure(got); p.Reason != problem.JobManagerDeploymentFailed || p.Message != want {
		t.Fatalf("error %s %q, want %s %q", p.Reason, p.Message, problem.JobManagerDeploymentFailed, want)
	}
	if !hasEvent(ctx, fd, flinkdeployment.ReasonFailedMount) {
		t.Error("no FailedMount event")
	}

	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: fd.Namespace, Name: "missing-secret-creds"}, StringData: map[string]string{"token": "x"}}
	if err := fleet.Members[0].Client.Create(ctx, secret); err != nil {
		t.Fatal(err)
	}
	fixed := waitFor(t, ctx, fd, 2*time.Minute, "running once the Secret exists", running)
	if fixed.Status.Error != "" || fixed.Status.JobManagerDeploymentStatus != v1beta1.JobManagerReady {
		t.Errorf("after the volume mounted: JobManager %s, error %q", fixed.Status.JobManagerDeploymentStatus, failure(fixed).Message)
	}
}

// TestCrashLoopingJobManagerIsReportedAtOnce: a JobManager container in
// CrashLoopBackOff is an ERROR with the container's message as soon as the
// hub sees it, not after the readiness timeout, and the error clears when
// the JobManager starts.
func TestCrashLoopingJobManagerIsReportedAtOnce(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	fd := haExample(t, "crash-loop", v1beta1.UpgradeModeSavepoint)
	if err := sim.SetFaults(memberName, fd.Namespace, fd.Name, flinksim.ClusterFaults{CrashLoop: true}); err != nil {
		t.Fatal(err)
	}
	create(t, ctx, fd)
	const want = "JobManager deployment crash-loop failed: [flink-main-container] back-off restarting failed container flink-main-container"
	got := waitFor(t, ctx, fd, time.Minute, "ERROR naming the crash loop", func(fd *v1beta1.FlinkDeployment) bool {
		return fd.Status.JobManagerDeploymentStatus == v1beta1.JobManagerError && fd.Status.Error != ""
	})
	if failure(got).Message != want {
		t.Fatalf("error %q, want %q (the readiness timeout says nothing of the container)", failure(got).Message, want)
	}
	if !hasEvent(ctx, fd, "CrashLoopBackOff") {
		t.Error("no CrashLoopBackOff event")
	}

	if err := sim.SetFaults(memberName, fd.Namespace, fd.Name, flinksim.ClusterFaults{}); err != nil {
		t.Fatal(err)
	}
	fixed := waitFor(t, ctx, fd, 2*time.Minute, "running once the JobManager starts", running)
	if fixed.Status.Error != "" {
		t.Errorf("error after the JobManager started: %q", failure(fixed).Message)
	}
}
