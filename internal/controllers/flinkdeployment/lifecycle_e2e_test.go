package flinkdeployment_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/e2e/flinksim"
	"github.com/flink-hub/flink-hub/e2e/flinksim/jobmanager"
	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/clusterhealth"
	"github.com/flink-hub/flink-hub/internal/controllers/flinkdeployment"
	"github.com/flink-hub/flink-hub/internal/problem"
)

const lifecycleNS = "lifecycle"

// haExample is the upstream HA example (HA, checkpoint and savepoint
// directories) as an application with the given name and upgrade mode.
func haExample(t *testing.T, name string, mode v1beta1.UpgradeMode) *v1beta1.FlinkDeployment {
	t.Helper()
	fd := example(t, "basic-checkpoint-ha/basic-checkpoint-ha-example", lifecycleNS, name)
	fd.Spec.Job.UpgradeMode = mode
	return fd
}

// withSettings adds members (of a JSON object: `"key":"value",...`) to
// fd's flinkConfiguration.
func withSettings(fd *v1beta1.FlinkDeployment, members string) *v1beta1.FlinkDeployment {
	fd.Spec.FlinkConfiguration.Raw = []byte(strings.Replace(string(fd.Spec.FlinkConfiguration.Raw), "{", "{"+members+",", 1))
	return fd
}

// create creates fd in the member, in its namespace (made if missing).
func create(t *testing.T, ctx context.Context, fd *v1beta1.FlinkDeployment) {
	t.Helper()
	namespace(t, ctx, fd.Namespace)
	if err := fleet.Members[0].Client.Create(ctx, fd); err != nil {
		t.Fatal(err)
	}
}

// deployRunning creates fd and waits until it is stable with a running job
// that has completed a checkpoint.
func deployRunning(t *testing.T, ctx context.Context, fd *v1beta1.FlinkDeployment) *v1beta1.FlinkDeployment {
	t.Helper()
	create(t, ctx, fd)
	got := waitFor(t, ctx, fd, 2*time.Minute, "running", running)
	if err := framework.Eventually(ctx, time.Minute, func(context.Context) (bool, error) {
		job := simJob(fd)
		return job != nil && len(job.Checkpoints) > 0, nil
	}); err != nil {
		t.Fatalf("no checkpoint completed: %v", err)
	}
	return got
}

// simJob is the simulated JobManager's latest job of fd, nil if none.
func simJob(fd *v1beta1.FlinkDeployment) *jobmanager.JobStatus {
	jm := sim.JobManager(memberName, fd.Namespace, fd.Name)
	if jm == nil {
		return nil
	}
	jobs := jm.Jobs()
	if len(jobs) == 0 {
		return nil
	}
	return &jobs[len(jobs)-1]
}

func patchSpec(t *testing.T, ctx context.Context, fd *v1beta1.FlinkDeployment, patch string) {
	t.Helper()
	if err := fleet.Members[0].Client.Patch(ctx, fd.DeepCopy(), client.RawPatch(types.MergePatchType, []byte(patch))); err != nil {
		t.Fatal(err)
	}
}

func jobManager(t *testing.T, ctx context.Context, fd *v1beta1.FlinkDeployment) *appsv1.Deployment {
	t.Helper()
	dep := &appsv1.Deployment{}
	if err := fleet.Members[0].Client.Get(ctx, client.ObjectKeyFromObject(fd), dep); err != nil {
		t.Fatalf("JobManager deployment of %s: %v", fd.Name, err)
	}
	return dep
}

// deployAndPatch deploys fd, waits until its job runs and has completed a
// checkpoint, and patches its spec: it returns fd as it ran before the
// patch and its JobManager Deployment.
func deployAndPatch(t *testing.T, ctx context.Context, fd *v1beta1.FlinkDeployment, patch string) (*v1beta1.FlinkDeployment, *appsv1.Deployment) {
	t.Helper()
	fd = deployRunning(t, ctx, fd)
	jm := jobManager(t, ctx, fd)
	patchSpec(t, ctx, fd, patch)
	return fd, jm
}

// checkJobUndisturbed checks that a manual snapshot (what: savepoint,
// checkpoint) of fd, now got, neither restarted the job nor replaced its
// JobManager jm, and that the job runs.
func checkJobUndisturbed(t *testing.T, ctx context.Context, fd, got *v1beta1.FlinkDeployment, jm *appsv1.Deployment, what string) {
	t.Helper()
	if got.Status.JobStatus.JobID != fd.Status.JobStatus.JobID || jobManager(t, ctx, fd).UID != jm.UID {
		t.Error("a manual " + what + " restarted the job")
	}
	if job := simJob(fd); job == nil || job.State != "RUNNING" {
		t.Errorf("job after the %s: %+v", what, job)
	}
}

// eventsOf lists the events of reason about fd.
func eventsOf(ctx context.Context, fd *v1beta1.FlinkDeployment, reason string) []eventsv1.Event {
	var evs eventsv1.EventList
	if err := fleet.Members[0].Client.List(ctx, &evs, client.InNamespace(fd.Namespace)); err != nil {
		return nil
	}
	var out []eventsv1.Event
	for _, e := range evs.Items {
		if e.Regarding.Name == fd.Name && e.Reason == reason {
			out = append(out, e)
		}
	}
	return out
}

// awaitEvent waits up to a minute for an event of reason about fd,
// reporting an error when none comes; it says whether one came.
func awaitEvent(t *testing.T, ctx context.Context, fd *v1beta1.FlinkDeployment, reason string) bool {
	t.Helper()
	if err := framework.Eventually(ctx, time.Minute, func(ctx context.Context) (bool, error) {
		return hasEvent(ctx, fd, reason), nil
	}); err != nil {
		t.Errorf("no %s event: %v", reason, err)
		return false
	}
	return true
}

func hasEvent(ctx context.Context, fd *v1beta1.FlinkDeployment, reason string) bool {
	return len(eventsOf(ctx, fd, reason)) > 0
}

// withManualSavepoint deploys the HA example as name (savepoint upgrades)
// and takes a manual savepoint (nonce 1): it returns fd, its JobManager,
// and fd once the savepoint is recorded.
func withManualSavepoint(t *testing.T, ctx context.Context, name string) (fd *v1beta1.FlinkDeployment, jm *appsv1.Deployment, saved *v1beta1.FlinkDeployment) {
	t.Helper()
	fd, jm = deployAndPatch(t, ctx, haExample(t, name, v1beta1.UpgradeModeSavepoint), `{"spec":{"job":{"savepointTriggerNonce":1}}}`)
	saved = waitFor(t, ctx, fd, time.Minute, "a manual savepoint", func(fd *v1beta1.FlinkDeployment) bool {
		info := fd.Status.JobStatus.SavepointInfo
		return info != nil && info.LastSavepoint != nil && info.LastSavepoint.Location != "" && info.TriggerID == ""
	})
	return fd, jm, saved
}

func TestManualSavepoint(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	fd, jm, got := withManualSavepoint(t, ctx, "manual-savepoint")
	sp := got.Status.JobStatus.SavepointInfo.LastSavepoint
	if sp.TriggerType != v1beta1.TriggerManual || sp.TriggerNonce == nil || *sp.TriggerNonce != 1 {
		t.Errorf("last savepoint %+v", sp)
	}
	if !strings.HasPrefix(sp.Location, "file:///flink-data/savepoints") {
		t.Errorf("savepoint not in state.savepoints.dir: %s", sp.Location)
	}
	if n := len(got.Status.JobStatus.SavepointInfo.SavepointHistory); n != 1 {
		t.Errorf("history has %d savepoints, want 1", n)
	}
	// The same nonce again takes nothing more.
	checkJobUndisturbed(t, ctx, fd, got, jm, "savepoint")
}

func TestManualCheckpoint(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	fd, jm := deployAndPatch(t, ctx, haExample(t, "manual-checkpoint", v1beta1.UpgradeModeLastState), `{"spec":{"job":{"checkpointTriggerNonce":7}}}`)
	got := waitFor(t, ctx, fd, time.Minute, "a manual checkpoint", func(fd *v1beta1.FlinkDeployment) bool {
		info := fd.Status.JobStatus.CheckpointInfo
		return info != nil && info.LastCheckpoint != nil && info.TriggerID == "" && fd.Status.ObservedGeneration == fd.Generation
	})
	cp := got.Status.JobStatus.CheckpointInfo.LastCheckpoint
	if cp.TriggerType != v1beta1.TriggerManual || cp.TriggerNonce == nil || *cp.TriggerNonce != 7 || cp.FormatType != v1beta1.CheckpointFull || cp.TimeStamp == 0 {
		t.Errorf("last checkpoint %+v", cp)
	}
	if got.Status.Error != "" {
		t.Errorf("error %q after a manual checkpoint", failure(got).Message)
	}
	checkJobUndisturbed(t, ctx, fd, got, jm, "checkpoint")
}

// TestPeriodicCheckpoints sets kubernetes.operator.periodic.checkpoint.interval
// (in Flink's duration format) on a running job: the hub triggers
// checkpoints of the configured type, one interval apart, and leaves the
// job running.
func TestPeriodicCheckpoints(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	fd, jm := deployAndPatch(t, ctx, haExample(t, "periodic-checkpoint", v1beta1.UpgradeModeLastState),
		`{"spec":{"flinkConfiguration":{"kubernetes.operator.periodic.checkpoint.interval":"2 s","kubernetes.operator.checkpoint.type":"incremental"}}}`)
	periodic := func(fd *v1beta1.FlinkDeployment) (int64, bool) {
		info := fd.Status.JobStatus.CheckpointInfo
		if info == nil || info.LastCheckpoint == nil || info.LastCheckpoint.TriggerType != v1beta1.TriggerPeriodic || info.TriggerID != "" {
			return 0, false
		}
		return info.LastPeriodicCheckpointTimestamp, true
	}
	first := waitFor(t, ctx, fd, time.Minute, "a periodic checkpoint", func(fd *v1beta1.FlinkDeployment) bool {
		_, ok := periodic(fd)
		return ok
	})
	firstAt, _ := periodic(first)
	cp := first.Status.JobStatus.CheckpointInfo.LastCheckpoint
	if cp.FormatType != v1beta1.CheckpointIncremental || cp.TriggerNonce != nil {
		t.Errorf("periodic checkpoint %+v, want INCREMENTAL without a nonce", cp)
	}
	second := waitFor(t, ctx, fd, time.Minute, "the next periodic checkpoint", func(fd *v1beta1.FlinkDeployment) bool {
		at, ok := periodic(fd)
		return ok && at > firstAt
	})
	if secondAt, _ := periodic(second); time.Duration(secondAt-firstAt)*time.Millisecond < 2*time.Second {
		t.Errorf("periodic checkpoints %d ms apart, the interval is 2 s", secondAt-firstAt)
	}
	if second.Status.Error != "" || jobManager(t, ctx, fd).UID != jm.UID {
		t.Errorf("periodic checkpoints disturbed the job: error %q", failure(second).Message)
	}
	if !hasEvent(ctx, fd, "CheckpointCompleted") {
		t.Error("no CheckpointCompleted event")
	}
}

// checkRestored checks that the job an upgrade in mode started (got, its
// FlinkDeployment) restored what the mode keeps: the latest HA checkpoint
// (last-state), the upgrade savepoint (savepoint), nothing (stateless).
func checkRestored(t *testing.T, mode v1beta1.UpgradeMode, got *v1beta1.FlinkDeployment, r *jobmanager.Restore) {
	t.Helper()
	switch mode {
	case v1beta1.UpgradeModeLastState:
		if r == nil || r.IsSavepoint || r.CheckpointID == 0 {
			t.Errorf("last-state must restore from the latest HA checkpoint, restored %+v", r)
		}
	case v1beta1.UpgradeModeSavepoint:
		path := got.Status.JobStatus.UpgradeSavepointPath
		if path == "" || r == nil || r.Path != path || !r.IsSavepoint {
			t.Errorf("savepoint mode must restore from the upgrade savepoint %q, restored %+v", path, r)
		}
		if sp := got.Status.JobStatus.SavepointInfo.LastSavepoint; sp == nil || sp.TriggerType != v1beta1.TriggerUpgrade || sp.Location != path {
			t.Errorf("last savepoint %+v", sp)
		}
	default:
		if r != nil {
			t.Errorf("stateless must start empty, restored %+v", r)
		}
	}
}

// TestCheckpointTriggersNeedFlink117: Flink before 1.17 has no REST call
// to trigger a checkpoint (it answers 404). The hub asks nothing of it:
// a manual checkpoint is handled with a CheckpointFailed error saying
// why, periodic ones are never triggered, and the job runs on.
func TestCheckpointTriggersNeedFlink117(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	old := haExample(t, "checkpoint-1-16", v1beta1.UpgradeModeLastState)
	old.Spec.Image, old.Spec.FlinkVersion = "flink:1.16", "v1_16"
	fd, jm := deployAndPatch(t, ctx, old,
		`{"spec":{"job":{"checkpointTriggerNonce":3},"flinkConfiguration":{"kubernetes.operator.periodic.checkpoint.interval":"1 s"}}}`)
	want := "manual checkpoint not triggered: Flink 1.16 cannot take a checkpoint on request"
	got := waitFor(t, ctx, fd, time.Minute, "the manual checkpoint refused", func(fd *v1beta1.FlinkDeployment) bool {
		return fd.Status.ObservedGeneration == fd.Generation && strings.Contains(failure(fd).Message, want)
	})
	if p := failure(got); p.Reason != problem.CheckpointFailed {
		t.Errorf("status.error %+v, want %s", p, problem.CheckpointFailed)
	}
	if info := got.Status.JobStatus.CheckpointInfo; info != nil && info.TriggerID != "" {
		t.Errorf("a checkpoint trigger is pending: %+v", info)
	}
	jobID := got.Status.JobStatus.JobID
	framework.Hold(t, 3*time.Second, "no checkpoint trigger sent to Flink 1.16", func() error {
		if n := sim.JobManager(memberName, fd.Namespace, fd.Name).CheckpointTriggerRequests(jobID); n != 0 {
			return fmt.Errorf("%d checkpoint triggers sent", n)
		}
		return nil
	})
	checkJobUndisturbed(t, ctx, fd, got, jm, "checkpoint")
}

func TestUpgradeModes(t *testing.T) {
	for _, mode := range []v1beta1.UpgradeMode{v1beta1.UpgradeModeLastState, v1beta1.UpgradeModeSavepoint, v1beta1.UpgradeModeStateless} {
		t.Run(string(mode), func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
			defer cancel()
			fd, old := deployAndPatch(t, ctx, haExample(t, "upgrade-"+string(mode), mode), `{"spec":{"job":{"parallelism":3}}}`)
			got := waitFor(t, ctx, fd, 2*time.Minute, "upgraded and running", func(got *v1beta1.FlinkDeployment) bool {
				if !running(got) || got.Status.ObservedGeneration != got.Generation {
					return false
				}
				var last struct{ Spec v1beta1.FlinkDeploymentSpec }
				_ = json.Unmarshal([]byte(got.Status.ReconciliationStatus.LastReconciledSpec), &last)
				return last.Spec.Job != nil && last.Spec.Job.Parallelism == 3
			})
			if jobManager(t, ctx, fd).UID == old.UID {
				t.Error("the JobManager was not replaced")
			}
			job := simJob(fd)
			if job == nil || job.Spec.Parallelism != 3 {
				t.Fatalf("new job %+v", job)
			}
			checkRestored(t, mode, got, job.Spec.Restore)
			if !hasEvent(ctx, fd, "SpecChanged") {
				t.Error("no SpecChanged event")
			}
		})
	}
}

func TestSuspendAndResume(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	fd := deployRunning(t, ctx, haExample(t, "suspend-resume", v1beta1.UpgradeModeSavepoint))
	suspendThenResume(t, ctx, fd, "a savepoint", func(path string) bool { return path != "" })
}

// suspendThenResume suspends fd, checks that the suspend recorded where
// the job starts again (what, which recorded accepts) and removed the
// JobManager, resumes fd and checks that its job started from there.
func suspendThenResume(t *testing.T, ctx context.Context, fd *v1beta1.FlinkDeployment, what string, recorded func(path string) bool) {
	t.Helper()
	patchSpec(t, ctx, fd, `{"spec":{"job":{"state":"suspended"}}}`)
	got := waitFor(t, ctx, fd, 2*time.Minute, "suspended", func(fd *v1beta1.FlinkDeployment) bool {
		return fd.Status.LifecycleState == v1beta1.LifecycleSuspended && fd.Status.JobStatus.State == v1beta1.JobSuspended
	})
	path := got.Status.JobStatus.UpgradeSavepointPath
	if !recorded(path) {
		t.Fatalf("the suspend recorded %q, want %s", path, what)
	}
	if err := fleet.Members[0].Client.Get(ctx, client.ObjectKeyFromObject(fd), &appsv1.Deployment{}); !apierrors.IsNotFound(err) {
		t.Fatalf("the JobManager must be gone while suspended: %v", err)
	}
	patchSpec(t, ctx, fd, `{"spec":{"job":{"state":"running"}}}`)
	waitFor(t, ctx, fd, 2*time.Minute, "resumed", running)
	if job := simJob(fd); job == nil || job.Spec.Restore == nil || job.Spec.Restore.Path != path {
		t.Fatalf("resumed job must restore from %s: %+v", path, job)
	}
}

func TestOperatorSettingsRedeployNothing(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	fd, jm := deployAndPatch(t, ctx, haExample(t, "operator-settings", v1beta1.UpgradeModeSavepoint),
		`{"spec":{"flinkConfiguration":{"kubernetes.operator.periodic.savepoint.interval":"2s"}}}`)
	got := waitFor(t, ctx, fd, time.Minute, "a periodic savepoint", func(fd *v1beta1.FlinkDeployment) bool {
		info := fd.Status.JobStatus.SavepointInfo
		return info != nil && info.LastSavepoint != nil && info.LastSavepoint.TriggerType == v1beta1.TriggerPeriodic
	})
	if !strings.Contains(got.Status.ReconciliationStatus.LastReconciledSpec, "periodic.savepoint.interval") {
		t.Error("the new setting was not recorded as reconciled")
	}
	after := jobManager(t, ctx, fd)
	if after.UID != jm.UID || after.Generation != jm.Generation {
		t.Errorf("an operator setting redeployed the JobManager (generation %d -> %d)", jm.Generation, after.Generation)
	}
	if got.Status.JobStatus.JobID != fd.Status.JobStatus.JobID {
		t.Error("an operator setting restarted the job")
	}
}

func TestReactiveScalingDoesNotRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	fd := haExample(t, "reactive-scale", v1beta1.UpgradeModeSavepoint)
	fd.Spec.Mode = v1beta1.ModeStandalone
	withSettings(fd, `"scheduler-mode":"reactive"`)
	one := int32(1)
	fd.Spec.TaskManager.Replicas = &one
	fd = deployRunning(t, ctx, fd)
	jm := jobManager(t, ctx, fd)
	// What kubectl scale and an HPA do: write /scale.
	patchSpec(t, ctx, fd, `{"spec":{"taskManager":{"replicas":3}}}`)
	err := framework.Eventually(ctx, time.Minute, func(ctx context.Context) (bool, error) {
		tm := &appsv1.Deployment{}
		if err := fleet.Members[0].Client.Get(ctx, client.ObjectKey{Namespace: fd.Namespace, Name: fd.Name + "-taskmanager"}, tm); err != nil {
			return false, err
		}
		return *tm.Spec.Replicas == 3 && tm.Status.ReadyReplicas == 3, nil
	})
	if err != nil {
		t.Fatalf("TaskManagers not scaled to 3: %v", err)
	}
	got := waitFor(t, ctx, fd, time.Minute, "scale recorded", func(fd *v1beta1.FlinkDeployment) bool {
		return fd.Status.TaskManager != nil && fd.Status.TaskManager.Replicas == 3 && running(fd)
	})
	// Deployments count annotation changes in their generation, so compare
	// what restarts pods: the pod template.
	if after := jobManager(t, ctx, fd); after.UID != jm.UID || !equality.Semantic.DeepEqual(after.Spec.Template, jm.Spec.Template) {
		t.Errorf("reactive scaling changed the JobManager's pods (uid %s -> %s)", jm.UID, after.UID)
	}
	if got.Status.JobStatus.JobID != fd.Status.JobStatus.JobID {
		t.Error("reactive scaling restarted the job")
	}
}

// TestManualSavepointRetriedWithinGracePeriod: a manual savepoint that
// fails within kubernetes.operator.savepoint.trigger.grace-period of its
// trigger is triggered again (a SavepointError event says so), and
// completes once Flink can take it; one that keeps failing past the grace
// period is reported, as upstream does.
func TestManualSavepointRetriedWithinGracePeriod(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	fd, simJM := retriedWithinGrace(t, ctx, graceCase{name: "grace", setting: "savepoint.trigger.grace-period", nonce: "savepointTriggerNonce",
		fault: jobmanager.Faults{SavepointFailure: "bucket briefly unreachable"}, event: "SavepointError",
		nonceDone: func(st *v1beta1.FlinkDeploymentStatus) *int64 {
			if info := st.JobStatus.SavepointInfo; info != nil && info.LastSavepoint != nil {
				return info.LastSavepoint.TriggerNonce
			}
			return nil
		}})

	// Past the grace period, a failure is reported and not retried.
	simJM.SetFaults(jobmanager.Faults{SavepointFailure: "bucket gone", SavepointDuration: 25 * time.Second})
	patchSpec(t, ctx, fd, `{"spec":{"job":{"savepointTriggerNonce":2}}}`)
	waitFor(t, ctx, fd, time.Minute, "the late failure reported", func(fd *v1beta1.FlinkDeployment) bool {
		return failure(fd).Reason == problem.SavepointFailed && strings.Contains(failure(fd).Message, "bucket gone")
	})
}

// TestManualCheckpointRetriedWithinGracePeriod: the same for a manual
// checkpoint and kubernetes.operator.checkpoint.trigger.grace-period (a
// CheckpointError event).
func TestManualCheckpointRetriedWithinGracePeriod(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	retriedWithinGrace(t, ctx, graceCase{name: "cp-grace", setting: "checkpoint.trigger.grace-period", nonce: "checkpointTriggerNonce",
		fault: jobmanager.Faults{CheckpointFailure: "bucket briefly unreachable"}, event: "CheckpointError",
		nonceDone: func(st *v1beta1.FlinkDeploymentStatus) *int64 {
			if info := st.JobStatus.CheckpointInfo; info != nil && info.LastCheckpoint != nil {
				return info.LastCheckpoint.TriggerNonce
			}
			return nil
		}})
}

// graceCase is a manual snapshot kind retried within its grace period:
// the setting (after kubernetes.operator.), the spec's nonce field, the
// fault that fails it, the event that says it is retried, and the nonce
// of the last completed one in a status.
type graceCase struct {
	name, setting, nonce, event string
	fault                       jobmanager.Faults
	nonceDone                   func(*v1beta1.FlinkDeploymentStatus) *int64
}

// retriedWithinGrace runs a FlinkDeployment with a 20 s grace period, fails
// its first manual snapshot (nonce 1) and checks that it is retried, said
// in an event, and completes once Flink recovers, leaving no error.
func retriedWithinGrace(t *testing.T, ctx context.Context, c graceCase) (*v1beta1.FlinkDeployment, *jobmanager.JobManager) {
	t.Helper()
	fd := deployRunning(t, ctx, withSettings(haExample(t, c.name, v1beta1.UpgradeModeSavepoint), `"kubernetes.operator.`+c.setting+`":"20 s"`))
	simJM := sim.JobManager(memberName, fd.Namespace, fd.Name)
	simJM.SetFaults(c.fault)
	patchSpec(t, ctx, fd, `{"spec":{"job":{"`+c.nonce+`":1}}}`)
	if !awaitEvent(t, ctx, fd, c.event) {
		t.FailNow()
	}
	if evs := eventsOf(ctx, fd, c.event); !strings.Contains(evs[0].Note, "retrying") {
		t.Errorf("event %q does not say it retries", evs[0].Note)
	}
	simJM.SetFaults(jobmanager.Faults{})
	got := waitFor(t, ctx, fd, time.Minute, "the retried snapshot completed", func(fd *v1beta1.FlinkDeployment) bool {
		n := c.nonceDone(&fd.Status)
		return n != nil && *n == 1
	})
	if got.Status.Error != "" {
		t.Errorf("error %q after the retried snapshot completed", failure(got).Message)
	}
	return fd, simJM
}

func TestFailedSavepointKeepsTheJob(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	fd := deployRunning(t, ctx, haExample(t, "savepoint-fails", v1beta1.UpgradeModeSavepoint))
	jm := jobManager(t, ctx, fd)
	simJM := sim.JobManager(memberName, fd.Namespace, fd.Name)
	simJM.SetFaults(jobmanager.Faults{SavepointFailure: "disk full"})
	patchSpec(t, ctx, fd, `{"spec":{"job":{"parallelism":3}}}`)
	got := waitFor(t, ctx, fd, time.Minute, "savepoint failure reported", func(fd *v1beta1.FlinkDeployment) bool {
		return failure(fd).Reason == problem.SavepointFailed && strings.Contains(failure(fd).Message, "disk full")
	})
	if got.Status.ReconciliationStatus.State != v1beta1.ReconciliationDeployed {
		t.Errorf("a failed upgrade must not stay UPGRADING: %s", got.Status.ReconciliationStatus.State)
	}
	if after := jobManager(t, ctx, fd); after.UID != jm.UID {
		t.Fatal("the JobManager was deleted without a savepoint")
	}
	if job := simJob(fd); job == nil || job.State != "RUNNING" {
		t.Fatalf("the old job must keep running: %+v", job)
	}
	if !hasEvent(ctx, fd, "SavepointError") {
		t.Error("no SavepointError event")
	}
	// Once savepoints work again, the retry upgrades.
	simJM.SetFaults(jobmanager.Faults{})
	waitFor(t, ctx, fd, 2*time.Minute, "upgraded after the retry", func(fd *v1beta1.FlinkDeployment) bool {
		return running(fd) && fd.Status.Error == "" && fd.Status.JobStatus.UpgradeSavepointPath != ""
	})
	if job := simJob(fd); job == nil || job.Spec.Parallelism != 3 {
		t.Errorf("job after the retry: %+v", job)
	}
}

// TestRepeatedSavepointFailuresAreCounted: an upgrade's, a periodic or the
// deletion's savepoint, or a periodic checkpoint, that keeps failing is
// reported with how many times it failed in a row and when the hub tries
// again, the job and its savepoints kept; the report ends once one
// completes (the deletion goes on).
func TestRepeatedSavepointFailuresAreCounted(t *testing.T) {
	sp := jobmanager.Faults{SavepointFailure: "disk full"}
	for _, tc := range []struct {
		name, settings, patch, next string
		faults                      jobmanager.Faults
		reason                      problem.Reason
		delete                      bool
	}{
		{name: "sp-count-upgrade", faults: sp, reason: problem.SavepointFailed, patch: `{"spec":{"job":{"parallelism":3}}}`, next: "the spec change is tried again with a new savepoint at "},
		{name: "sp-count-periodic", faults: sp, reason: problem.SavepointFailed, settings: `"kubernetes.operator.periodic.savepoint.interval":"3 s"`, next: "the next periodic savepoint is at "},
		{name: "sp-count-deletion", faults: sp, reason: problem.SavepointFailed, settings: `"kubernetes.operator.job.savepoint-on-deletion":"true"`, delete: true, next: "the deletion is tried again with a new savepoint at "},
		{name: "cp-count-periodic", faults: jobmanager.Faults{CheckpointFailure: "storage unreachable"}, reason: problem.CheckpointFailed,
			settings: `"kubernetes.operator.periodic.checkpoint.interval":"3 s"`, next: "the next periodic checkpoint is at "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			fd := haExample(t, tc.name, v1beta1.UpgradeModeSavepoint)
			if tc.settings != "" {
				fd = withSettings(fd, tc.settings)
			}
			fd = deployRunning(t, ctx, fd)
			jm := jobManager(t, ctx, fd)
			simJM := sim.JobManager(memberName, fd.Namespace, fd.Name)
			simJM.SetFaults(tc.faults)
			switch {
			case tc.patch != "":
				patchSpec(t, ctx, fd, tc.patch)
			case tc.delete:
				if err := fleet.Members[0].Client.Delete(ctx, fd); err != nil {
					t.Fatal(err)
				}
			}
			got := waitFor(t, ctx, fd, 2*time.Minute, "a second failure in a row reported", func(fd *v1beta1.FlinkDeployment) bool {
				return failure(fd).Reason == tc.reason && failure(fd).Failures >= 2
			})
			msg := failure(got).Message
			n := failure(got).Failures
			t.Logf("status.error says: %s", msg)
			cause := tc.faults.SavepointFailure + tc.faults.CheckpointFailure
			if !strings.Contains(msg, fmt.Sprintf("(%d times in a row)", n)) || !strings.Contains(msg, cause) || !strings.Contains(msg, tc.next) {
				t.Errorf("message %q does not name the cause, the %d failures in a row and the next try (%q)", msg, n, tc.next)
			}
			const utc = "2006-01-02T15:04:05Z"
			if _, after, ok := strings.Cut(msg, tc.next); !ok || len(after) < len(utc) {
				t.Errorf("message %q does not say when", msg)
			} else if at, err := time.Parse(utc, after[:len(utc)]); err != nil || at.Before(time.Now().Add(-time.Minute)) {
				t.Errorf("message %q: next try %q (%v) is not a time to come", msg, after[:len(utc)], err)
			}
			if after := jobManager(t, ctx, fd); after.UID != jm.UID || got.Status.JobStatus.State != v1beta1.JobRunning {
				t.Fatalf("the job must keep running on its JobManager: %+v", got.Status.JobStatus)
			}
			if event := problem.New(tc.reason, "").EventReason(); !hasEvent(ctx, fd, event) {
				t.Errorf("no %s event", event)
			}
			simJM.SetFaults(jobmanager.Faults{})
			if tc.delete {
				if err := framework.Eventually(ctx, time.Minute, func(ctx context.Context) (bool, error) {
					err := fleet.Members[0].Client.Get(ctx, client.ObjectKeyFromObject(fd), &v1beta1.FlinkDeployment{})
					return apierrors.IsNotFound(err), nil
				}); err != nil {
					t.Fatalf("not deleted once the savepoint completes: %v", err)
				}
				return
			}
			waitFor(t, ctx, fd, 2*time.Minute, "the report ended by a completed snapshot", func(fd *v1beta1.FlinkDeployment) bool {
				info, cp := fd.Status.JobStatus.SavepointInfo, fd.Status.JobStatus.CheckpointInfo
				return running(fd) && fd.Status.Error == "" && (info != nil && info.LastSavepoint != nil || cp != nil && cp.LastCheckpoint != nil)
			})
		})
	}
}

// TestRollbackOfASpecThatNeverBecomesReady: a spec whose JobManager never
// starts is rolled back after its readiness timeout to the last stable
// one, which runs again: a savepoint upgrade's job from the upgrade's
// savepoint, a last-state one's from Flink's HA metadata (read first: as
// upstream, no rollback of a last-state job without it).
func TestRollbackOfASpecThatNeverBecomesReady(t *testing.T) {
	for _, mode := range []v1beta1.UpgradeMode{v1beta1.UpgradeModeSavepoint, v1beta1.UpgradeModeLastState} {
		t.Run(string(mode), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
			defer cancel()
			fd := deployRunning(t, ctx, withSettings(haExample(t, "rollback-"+string(mode), mode), `"kubernetes.operator.deployment.rollback.enabled":"true"`))
			// A configuration the JobManager cannot start with.
			patchSpec(t, ctx, fd, `{"spec":{"flinkConfiguration":{"`+flinksim.StartupFailureKey+`":"bad configuration"}}}`)
			got := waitFor(t, ctx, fd, 3*time.Minute, "rolled back and running", func(fd *v1beta1.FlinkDeployment) bool {
				return fd.Status.LifecycleState == v1beta1.LifecycleRolledBack && fd.Status.JobManagerDeploymentStatus == v1beta1.JobManagerReady &&
					fd.Status.JobStatus.State == v1beta1.JobRunning
			})
			rs := got.Status.ReconciliationStatus
			if !strings.Contains(rs.LastReconciledSpec, flinksim.StartupFailureKey) || strings.Contains(rs.LastStableSpec, flinksim.StartupFailureKey) {
				t.Errorf("the failed spec must stay last reconciled and never become stable:\nreconciled %s\nstable %s", rs.LastReconciledSpec, rs.LastStableSpec)
			}
			if !hasEvent(ctx, fd, "Rollback") {
				t.Error("no Rollback event")
			}
			job := simJob(fd)
			switch {
			case job == nil:
				t.Error("no job runs after the rollback")
			case mode == v1beta1.UpgradeModeSavepoint && (job.Spec.Restore == nil || job.Spec.Restore.Path != got.Status.JobStatus.UpgradeSavepointPath):
				t.Errorf("rolled back job %+v, upgrade savepoint %s", job, got.Status.JobStatus.UpgradeSavepointPath)
			case mode == v1beta1.UpgradeModeLastState && job.Restored == nil:
				t.Errorf("the rolled back last-state job restored nothing: %+v", job)
			}
		})
	}
}

// TestRolledBackJobTakesPeriodicSavepoints: the job a rollback brought
// back, the last stable spec's, keeps taking the periodic savepoints that
// spec sets, as upstream's does, and the FlinkDeployment stays ROLLED_BACK
// with the failed spec never stable.
func TestRolledBackJobTakesPeriodicSavepoints(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	fd := deployRunning(t, ctx, withSettings(haExample(t, "rollback-periodic", v1beta1.UpgradeModeSavepoint),
		`"kubernetes.operator.deployment.rollback.enabled":"true","kubernetes.operator.periodic.savepoint.interval":"2 s"`))
	patchSpec(t, ctx, fd, `{"spec":{"flinkConfiguration":{"`+flinksim.StartupFailureKey+`":"bad configuration"}}}`)
	waitFor(t, ctx, fd, 3*time.Minute, "rolled back and running", func(fd *v1beta1.FlinkDeployment) bool {
		return fd.Status.LifecycleState == v1beta1.LifecycleRolledBack && fd.Status.JobManagerDeploymentStatus == v1beta1.JobManagerReady &&
			fd.Status.JobStatus.State == v1beta1.JobRunning
	})
	// Whatever completes from now on is of the rolled-back job.
	since := time.Now().UnixMilli()
	got := waitFor(t, ctx, fd, time.Minute, "a periodic savepoint of the rolled-back job", func(fd *v1beta1.FlinkDeployment) bool {
		info := fd.Status.JobStatus.SavepointInfo
		return info != nil && info.LastSavepoint != nil && info.LastSavepoint.TriggerType == v1beta1.TriggerPeriodic && info.LastSavepoint.TimeStamp > since
	})
	rs := got.Status.ReconciliationStatus
	if rs.State != v1beta1.ReconciliationRolledBack || got.Status.LifecycleState != v1beta1.LifecycleRolledBack || strings.Contains(rs.LastStableSpec, flinksim.StartupFailureKey) {
		t.Errorf("state %s, lifecycle %s, stable spec %s: want %s, the failed spec not stable", rs.State, got.Status.LifecycleState, rs.LastStableSpec, v1beta1.ReconciliationRolledBack)
	}
}

// TestRolledBackJobManagerIsRecoveredWithTheStableSpec: the JobManager
// Deployment of a rolled-back FlinkDeployment, deleted (its node lost),
// is recreated as upstream's deployment recovery does it, with the
// deployed spec: the last stable one, never the failed one the
// FlinkDeployment records as reconciled (the simulated JobManager does
// not start with flinksim.StartupFailureKey). The job is restored from
// its HA metadata and runs, and the FlinkDeployment stays ROLLED_BACK,
// the failed spec never stable.
func TestRolledBackJobManagerIsRecoveredWithTheStableSpec(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	fd := deployRunning(t, ctx, withSettings(haExample(t, "rollback-recover", v1beta1.UpgradeModeSavepoint), `"kubernetes.operator.deployment.rollback.enabled":"true"`))
	patchSpec(t, ctx, fd, `{"spec":{"flinkConfiguration":{"`+flinksim.StartupFailureKey+`":"bad configuration"}}}`)
	rolledBackRunning := func(fd *v1beta1.FlinkDeployment) bool {
		return fd.Status.LifecycleState == v1beta1.LifecycleRolledBack && fd.Status.JobManagerDeploymentStatus == v1beta1.JobManagerReady &&
			fd.Status.JobStatus.State == v1beta1.JobRunning
	}
	waitFor(t, ctx, fd, 3*time.Minute, "rolled back and running", rolledBackRunning)
	// The stable spec's job checkpoints into its HA metadata, which the
	// recovered JobManager restores it from.
	if err := framework.Eventually(ctx, time.Minute, func(ctx context.Context) (bool, error) {
		job := simJob(fd)
		if job == nil {
			return false, nil
		}
		var cm corev1.ConfigMap
		err := fleet.Members[0].Client.Get(ctx, client.ObjectKey{Namespace: fd.Namespace, Name: flinksim.HAJobConfigMapName(fd.Name, job.ID)}, &cm)
		return err == nil && slices.ContainsFunc(slices.Collect(maps.Keys(cm.Data)), func(k string) bool { return strings.HasPrefix(k, "checkpointID-") }), client.IgnoreNotFound(err)
	}); err != nil {
		t.Fatalf("no checkpoint of the rolled-back job in its HA metadata: %v", err)
	}
	lost := jobManager(t, ctx, fd)
	deleted := time.Now()
	if err := fleet.Members[0].Client.Delete(ctx, lost); err != nil {
		t.Fatal(err)
	}
	// Running again means a job started since the deletion, seen by the
	// hub: the status from before says RUNNING too.
	got := waitFor(t, ctx, fd, 2*time.Minute, "recovered and running, still rolled back", func(fd *v1beta1.FlinkDeployment) bool {
		started, err := strconv.ParseInt(fd.Status.JobStatus.StartTime, 10, 64)
		return rolledBackRunning(fd) && err == nil && started >= deleted.UnixMilli()
	})
	if jobManager(t, ctx, fd).UID == lost.UID {
		t.Error("the lost JobManager Deployment was not recreated")
	}
	rs := got.Status.ReconciliationStatus
	if rs.State != v1beta1.ReconciliationRolledBack || !strings.Contains(rs.LastReconciledSpec, flinksim.StartupFailureKey) || strings.Contains(rs.LastStableSpec, flinksim.StartupFailureKey) {
		t.Errorf("state %s: want %s, the failed spec last reconciled and never stable:\nreconciled %s\nstable %s", rs.State, v1beta1.ReconciliationRolledBack, rs.LastReconciledSpec, rs.LastStableSpec)
	}
	if !hasEvent(ctx, fd, flinkdeployment.ReasonRecoverDeployment) {
		t.Error("no RecoverDeployment event")
	}
	if job := simJob(fd); job == nil || job.Restored == nil {
		t.Errorf("the recovered job did not restore from the HA metadata: %+v", job)
	}
}

func TestJobManagerThatNeverBecomesReadyIsAnError(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	fd := withSettings(haExample(t, "never-ready", v1beta1.UpgradeModeSavepoint), `"`+flinksim.StartupFailureKey+`":"bad configuration"`)
	create(t, ctx, fd)
	waitFor(t, ctx, fd, time.Minute, "deploying", func(fd *v1beta1.FlinkDeployment) bool {
		return fd.Status.JobManagerDeploymentStatus == v1beta1.JobManagerDeploying
	})
	got := waitFor(t, ctx, fd, 2*time.Minute, "ERROR after the readiness timeout", func(fd *v1beta1.FlinkDeployment) bool {
		return fd.Status.JobManagerDeploymentStatus == v1beta1.JobManagerError
	})
	if failure(got).Reason != problem.JobManagerDeploymentFailed || !strings.Contains(failure(got).Message, "is not available within its readiness timeout") {
		t.Errorf("error %q does not say why", failure(got).Message)
	}
	if got.Status.LifecycleState == v1beta1.LifecycleStable {
		t.Error("a JobManager that never started is not stable")
	}
}

// TestBoundedJobThatFinishesIsStable: a job that finishes on its own (a
// batch job) leaves the FlinkDeployment STABLE, as upstream marks it, not
// DEPLOYED for ever.
func TestBoundedJobThatFinishesIsStable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	fd := withSettings(haExample(t, "bounded-job", v1beta1.UpgradeModeSavepoint), `"`+flinksim.BoundedJobKey+`":"0s"`)
	create(t, ctx, fd)
	got := waitFor(t, ctx, fd, time.Minute, "STABLE with the job FINISHED", func(fd *v1beta1.FlinkDeployment) bool {
		return fd.Status.JobStatus.State == v1beta1.JobFinished && fd.Status.LifecycleState == v1beta1.LifecycleStable
	})
	if got.Status.Error != "" || got.Status.JobManagerDeploymentStatus != v1beta1.JobManagerReady {
		t.Errorf("finished job: error %q, JobManager %s", failure(got).Message, got.Status.JobManagerDeploymentStatus)
	}
}

// TestLastStateWithAStaleCheckpointTakesASavepoint: with
// kubernetes.operator.job.upgrade.last-state.max.allowed.checkpoint.age
// (3 s), a last-state upgrade of a running job whose latest checkpoint is
// older (checkpoints fail) takes a savepoint and starts from it, as
// upstream does.
func TestLastStateWithAStaleCheckpointTakesASavepoint(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	upgradeWithStaleCheckpoint(t, ctx, withSettings(haExample(t, "stale-checkpoint", v1beta1.UpgradeModeLastState),
		`"kubernetes.operator.job.upgrade.last-state.max.allowed.checkpoint.age":"3 s"`))
}

// upgradeWithStaleCheckpoint deploys fd (a last-state job whose maximum
// checkpoint age is 3 s), makes its checkpoints fail until the latest is
// older than that, upgrades it and checks that a savepoint captured it and
// the upgraded job started from that savepoint.
func upgradeWithStaleCheckpoint(t *testing.T, ctx context.Context, fd *v1beta1.FlinkDeployment) *v1beta1.FlinkDeployment {
	t.Helper()
	fd = deployRunning(t, ctx, fd)
	sim.JobManager(memberName, fd.Namespace, fd.Name).SetFaults(jobmanager.Faults{CheckpointFailure: "storage slow"})
	last := simJob(fd).Checkpoints
	if err := framework.Eventually(ctx, time.Minute, func(context.Context) (bool, error) {
		cps := simJob(fd).Checkpoints
		return len(cps) > 0 && time.Since(cps[len(cps)-1].Time) > 5*time.Second, nil
	}); err != nil {
		t.Fatalf("checkpoints did not stop: %v (%d before)", err, len(last))
	}
	patchSpec(t, ctx, fd, `{"spec":{"job":{"parallelism":3}}}`)
	got := waitFor(t, ctx, fd, 2*time.Minute, "upgraded", func(fd *v1beta1.FlinkDeployment) bool {
		return running(fd) && fd.Status.ObservedGeneration == fd.Generation && strings.Contains(fd.Status.ReconciliationStatus.LastReconciledSpec, `"parallelism":3`)
	})
	info := got.Status.JobStatus.SavepointInfo
	if info == nil || info.LastSavepoint == nil || info.LastSavepoint.TriggerType != v1beta1.TriggerUpgrade {
		t.Fatalf("no upgrade savepoint: %+v", info)
	}
	if err := framework.Eventually(ctx, time.Minute, func(context.Context) (bool, error) {
		job := simJob(fd)
		return job != nil && job.Restored != nil && job.Restored.Path == info.LastSavepoint.Location, nil
	}); err != nil {
		t.Errorf("the upgraded job did not start from the savepoint %s: %+v", info.LastSavepoint.Location, simJob(fd))
	}
	return got
}

// TestLastStateByCancellation: with
// kubernetes.operator.job.upgrade.last-state.job-cancel.enabled, a
// last-state upgrade cancels the running job and starts the new one from
// its latest retained checkpoint, as upstream's last-state with cancel.
func TestLastStateByCancellation(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	fd := deployRunning(t, ctx, withSettings(haExample(t, "cancel-upgrade", v1beta1.UpgradeModeLastState),
		`"kubernetes.operator.job.upgrade.last-state.job-cancel.enabled":"true"`))
	old := simJob(fd)
	patchSpec(t, ctx, fd, `{"spec":{"job":{"parallelism":3}}}`)
	waitFor(t, ctx, fd, 2*time.Minute, "upgraded", func(fd *v1beta1.FlinkDeployment) bool {
		return running(fd) && fd.Status.ObservedGeneration == fd.Generation && strings.Contains(fd.Status.ReconciliationStatus.LastReconciledSpec, `"parallelism":3`)
	})
	if !hasEvent(ctx, fd, "CancellingJob") {
		t.Error("no CancellingJob event")
	}
	job := simJob(fd)
	if job == nil || job.Spec.Restore == nil || !strings.Contains(job.Spec.Restore.Path, "/chk-") || job.Spec.Parallelism != 3 {
		t.Fatalf("the new job did not start from the cancelled job's checkpoint: %+v", job)
	}
	if old.ID != "" && len(old.Checkpoints) == 0 {
		t.Fatalf("the cancelled job had no checkpoint: %+v", old)
	}
}

// TestClusterInfoStateSize: status.clusterInfo carries the running job's
// latest checkpoint's state size (state-size), as upstream.
func TestClusterInfoStateSize(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	fd := deployRunning(t, ctx, haExample(t, "state-size", v1beta1.UpgradeModeSavepoint))
	waitFor(t, ctx, fd, time.Minute, "a state size in clusterInfo", func(fd *v1beta1.FlinkDeployment) bool {
		n, err := strconv.ParseInt(fd.Status.ClusterInfo["state-size"], 10, 64)
		return err == nil && n > 1<<20
	})
}

// TestEndedJobShutsDownAfterTTL: the JobManager of a job that ended stays
// for kubernetes.operator.jm-deployment.shutdown-ttl (3 s here), then goes,
// with an event, while the FlinkDeployment keeps the job's final state.
// That the hub does not bring it back is the plan's table test.
func TestEndedJobShutsDownAfterTTL(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	fd := withSettings(haExample(t, "ended-ttl", v1beta1.UpgradeModeSavepoint), `"`+flinksim.BoundedJobKey+`":"0s","kubernetes.operator.jm-deployment.shutdown-ttl":"3 s"`)
	create(t, ctx, fd)
	got := waitFor(t, ctx, fd, time.Minute, "the JobManager of the finished job shut down", func(fd *v1beta1.FlinkDeployment) bool {
		return fd.Status.JobStatus.State == v1beta1.JobFinished && fd.Status.JobManagerDeploymentStatus == v1beta1.JobManagerMissing
	})
	if err := framework.Eventually(ctx, 30*time.Second, func(ctx context.Context) (bool, error) {
		err := fleet.Members[0].Client.Get(ctx, client.ObjectKey{Namespace: fd.Namespace, Name: fd.Name}, &appsv1.Deployment{})
		return apierrors.IsNotFound(err), nil
	}); err != nil {
		t.Fatalf("the JobManager Deployment is still there: %v", err)
	}
	awaitEvent(t, ctx, got, flinkdeployment.ReasonShutDown)
	if got.Status.Error != "" {
		t.Errorf("error %q after a shutdown", failure(got).Message)
	}
}

// TestJobExceptionsBecomeEvents: an exception the running job raises (it
// restarts) becomes a JobException Warning event with its stack trace cut
// to kubernetes.operator.events.exceptions.stacktrace-lines (1 here), once.
func TestJobExceptionsBecomeEvents(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	fd := deployRunning(t, ctx, withSettings(haExample(t, "exceptions", v1beta1.UpgradeModeSavepoint), `"kubernetes.operator.events.exceptions.stacktrace-lines":"1"`))
	job := simJob(fd)
	if err := sim.JobManager(memberName, fd.Namespace, fd.Name).FailJob(job.ID, "java.lang.IllegalStateException: sensor 7 sent garbage", false); err != nil {
		t.Fatal(err)
	}
	var got []eventsv1.Event
	if err := framework.Eventually(ctx, time.Minute, func(ctx context.Context) (bool, error) {
		got = eventsOf(ctx, fd, flinkdeployment.ReasonJobException)
		return len(got) > 0, nil
	}); err != nil {
		t.Fatalf("no %s event: %v", flinkdeployment.ReasonJobException, err)
	}
	want := "java.lang.IllegalStateException: sensor 7 sent garbage\n... (1 more lines)"
	if len(got) != 1 || got[0].Note != want || got[0].Type != corev1.EventTypeWarning {
		t.Errorf("events %+v; want one Warning %q", got, want)
	}
}

// TestUnhealthyJobRestarts: with the cluster health check on (at most one
// restart within a minute, the checkpoint check off), a job that restarts
// twice is restarted by the hub from its HA metadata, with a
// RestartUnhealthyJob event naming the threshold, as upstream does.
func TestUnhealthyJobRestarts(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	fd := deployRunning(t, ctx, withSettings(haExample(t, "unhealthy", v1beta1.UpgradeModeLastState),
		`"kubernetes.operator.cluster.health-check.enabled":"true","kubernetes.operator.cluster.health-check.restarts.threshold":"1",`+
			`"kubernetes.operator.cluster.health-check.restarts.window":"1 min","kubernetes.operator.cluster.health-check.checkpoint-progress.enabled":"false"`))
	// The first observation of the check starts its window.
	waitFor(t, ctx, fd, time.Minute, "health info recorded", func(fd *v1beta1.FlinkDeployment) bool {
		return fd.Status.ClusterInfo[clusterhealth.InfoKey] != ""
	})
	old := jobManager(t, ctx, fd)
	sjm := sim.JobManager(memberName, fd.Namespace, fd.Name)
	for range 2 {
		job := simJob(fd)
		if err := sjm.FailJob(job.ID, "java.io.IOException: disk gone", false); err != nil {
			t.Fatal(err)
		}
		if err := framework.Eventually(ctx, 30*time.Second, func(context.Context) (bool, error) {
			return simJob(fd).State == "RUNNING", nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	if !awaitEvent(t, ctx, fd, flinkdeployment.ReasonRestartUnhealthy) {
		t.FailNow()
	}
	if evs := eventsOf(ctx, fd, flinkdeployment.ReasonRestartUnhealthy); !strings.Contains(evs[0].Note, "Restart count hit threshold: 1") {
		t.Errorf("event %q does not say why", evs[0].Note)
	}
	waitFor(t, ctx, fd, 2*time.Minute, "running again", func(fd *v1beta1.FlinkDeployment) bool {
		return running(fd) && fd.Status.ReconciliationStatus.State == v1beta1.ReconciliationDeployed
	})
	if jobManager(t, ctx, fd).UID == old.UID {
		t.Error("the unhealthy job's JobManager was not replaced")
	}
	if job := simJob(fd); job == nil || job.Restored == nil || job.Restored.Path == "" {
		t.Errorf("the restarted job did not restore from the HA metadata: %+v", job)
	}
}

// TestReadinessTimeoutPerDeployment: kubernetes.operator.deployment.readiness.timeout
// in a FlinkDeployment's configuration overrides the hub's (20 s here).
func TestReadinessTimeoutPerDeployment(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	fd := withSettings(haExample(t, "never-ready-soon", v1beta1.UpgradeModeSavepoint),
		`"`+flinksim.StartupFailureKey+`":"bad configuration","kubernetes.operator.deployment.readiness.timeout":"3 s"`)
	create(t, ctx, fd)
	got := waitFor(t, ctx, fd, time.Minute, "ERROR after the readiness timeout", func(fd *v1beta1.FlinkDeployment) bool {
		return fd.Status.JobManagerDeploymentStatus == v1beta1.JobManagerError
	})
	m := regexp.MustCompile(`readiness timeout of (\S+):`).FindStringSubmatch(failure(got).Message)
	if m == nil {
		t.Fatalf("error %q does not give the readiness timeout", failure(got).Message)
	}
	if timeout, err := time.ParseDuration(m[1]); err != nil || timeout != 3*time.Second {
		t.Errorf("ERROR after a timeout of %s: want the FlinkDeployment's 3 s, not the hub's 20 s", m[1])
	}
}

// withoutHA is the HA example's configuration without high availability:
// checkpoint and savepoint directories only.
func withoutHA(fd *v1beta1.FlinkDeployment) {
	fd.Spec.FlinkConfiguration.Raw = []byte(`{"taskmanager.numberOfTaskSlots": 2, "state.savepoints.dir": "file:///flink-data/savepoints", "state.checkpoints.dir": "file:///flink-data/checkpoints"}`)
}

func TestUnreachableJobManagerDuringUpgrade(t *testing.T) {
	cases := []struct {
		name string
		ha   bool
	}{{"with HA metadata the upgrade falls back to it", true}, {"without HA nothing is deleted", false}}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
			defer cancel()
			fd := haExample(t, fmt.Sprintf("rest-down-%d", i), v1beta1.UpgradeModeSavepoint)
			if !tc.ha {
				withoutHA(fd)
			}
			fd = deployRunning(t, ctx, fd)
			jm := jobManager(t, ctx, fd)
			simJM := sim.JobManager(memberName, fd.Namespace, fd.Name)
			simJM.SetFaults(jobmanager.Faults{ErrorStatus: http.StatusServiceUnavailable})
			waitFor(t, ctx, fd, time.Minute, "JobManager seen as not ready", func(fd *v1beta1.FlinkDeployment) bool {
				return fd.Status.JobManagerDeploymentStatus == v1beta1.JobManagerDeployedNotReady
			})
			patchSpec(t, ctx, fd, `{"spec":{"job":{"parallelism":3}}}`)
			if tc.ha {
				waitFor(t, ctx, fd, 2*time.Minute, "upgraded from the HA metadata", func(fd *v1beta1.FlinkDeployment) bool {
					return running(fd) && fd.Status.ObservedGeneration == fd.Generation && jobManager(t, ctx, fd).UID != jm.UID
				})
				if job := simJob(fd); job == nil || job.Spec.Restore == nil || job.Spec.Restore.IsSavepoint || job.Spec.Restore.CheckpointID == 0 {
					t.Fatalf("the upgrade must restore from the latest checkpoint: %+v", job)
				}
				if !hasEvent(ctx, fd, "UpgradeFallback") {
					t.Error("no UpgradeFallback event")
				}
				return
			}
			got := waitFor(t, ctx, fd, time.Minute, "upgrade held back", func(fd *v1beta1.FlinkDeployment) bool {
				return failure(fd).Reason == problem.UpgradeBlocked && strings.Contains(failure(fd).Message, "cannot upgrade with a savepoint")
			})
			if jobManager(t, ctx, fd).UID != jm.UID {
				t.Fatal("the JobManager was deleted with neither a savepoint nor HA metadata")
			}
			if got.Status.ReconciliationStatus.State != v1beta1.ReconciliationUpgrading {
				t.Errorf("reconciliation state %s", got.Status.ReconciliationStatus.State)
			}
			// The JobManager answers again: the savepoint is taken and the
			// upgrade completes.
			simJM.SetFaults(jobmanager.Faults{})
			waitFor(t, ctx, fd, 2*time.Minute, "upgraded with a savepoint", func(fd *v1beta1.FlinkDeployment) bool {
				return running(fd) && fd.Status.JobStatus.UpgradeSavepointPath != "" && fd.Status.Error == ""
			})
		})
	}
}

// TestUpgradeModeChangedWhileUpgrading: an upgrade savepoint that Flink
// keeps in progress past execution.checkpointing.timeout is reported
// (UpgradeStalled in status.error, as a session job's) while the job keeps running and the
// trigger stays followed; switching to last-state then upgrades from the
// HA checkpoint, drops the trigger and the report.
func TestUpgradeModeChangedWhileUpgrading(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	fd := deployRunning(t, ctx, withSettings(haExample(t, "mode-change", v1beta1.UpgradeModeSavepoint), `"execution.checkpointing.timeout":"2 s"`))
	sim.JobManager(memberName, fd.Namespace, fd.Name).SetFaults(jobmanager.Faults{SavepointDuration: time.Hour})
	patchSpec(t, ctx, fd, `{"spec":{"job":{"parallelism":3}}}`)
	waitFor(t, ctx, fd, time.Minute, "savepoint pending", func(fd *v1beta1.FlinkDeployment) bool {
		info := fd.Status.JobStatus.SavepointInfo
		return info != nil && info.TriggerID != "" && info.TriggerType == v1beta1.TriggerUpgrade
	})
	waitFor(t, ctx, fd, time.Minute, "the stalled savepoint reported", func(fd *v1beta1.FlinkDeployment) bool {
		info := fd.Status.JobStatus.SavepointInfo
		p := failure(fd)
		return strings.Contains(p.Message, "the upgrade's stop-with-savepoint in progress since") && strings.Contains(p.Message, "execution.checkpointing.timeout (2s)") && p.Reason == problem.UpgradeStalled &&
			fd.Status.JobStatus.State == v1beta1.JobRunning && info != nil && info.TriggerID != ""
	})
	// The savepoint will not finish; the user switches to last-state.
	patchSpec(t, ctx, fd, `{"spec":{"job":{"upgradeMode":"last-state"}}}`)
	got := waitFor(t, ctx, fd, 2*time.Minute, "upgraded by last-state", func(fd *v1beta1.FlinkDeployment) bool {
		return running(fd) && fd.Status.ObservedGeneration == fd.Generation && fd.Status.LifecycleState == v1beta1.LifecycleStable
	})
	if job := simJob(fd); job == nil || job.Spec.Parallelism != 3 || job.Spec.Restore == nil || job.Spec.Restore.IsSavepoint {
		t.Fatalf("job after the mode change: %+v", job)
	}
	if info := got.Status.JobStatus.SavepointInfo; info != nil && info.TriggerID != "" {
		t.Errorf("a savepoint trigger of the abandoned upgrade is still pending: %+v", info)
	}
	if got.Status.Error != "" {
		t.Errorf("the stalled savepoint's report outlived it: %s", got.Status.Error)
	}
}

// TestLastStateWithoutHAMetadataFallsBackToSavepoint: a last-state upgrade
// of a running job whose HA metadata holds no checkpoint takes a savepoint
// instead, as upstream does (a job that does not run needs a manual
// restore: the plan and step tables cover that), and savepointRedeployNonce
// then restarts it from a known savepoint.
func TestLastStateWithoutHAMetadataFallsBackToSavepoint(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	fd := deployRunning(t, ctx, haExample(t, "manual-restore", v1beta1.UpgradeModeLastState))
	jm := jobManager(t, ctx, fd)
	dropHAMetadata(t, ctx, fd)
	patchSpec(t, ctx, fd, `{"spec":{"job":{"parallelism":3}}}`)
	got := waitFor(t, ctx, fd, 2*time.Minute, "upgraded from a savepoint", func(fd *v1beta1.FlinkDeployment) bool {
		return running(fd) && fd.Status.ObservedGeneration == fd.Generation && fd.Status.Error == "" &&
			strings.Contains(fd.Status.ReconciliationStatus.LastReconciledSpec, `"parallelism":3`)
	})
	if jobManager(t, ctx, fd).UID == jm.UID {
		t.Fatal("the cluster was not replaced")
	}
	if err := framework.Eventually(ctx, time.Minute, func(context.Context) (bool, error) {
		job := simJob(fd)
		return job != nil && job.Spec.Restore != nil && job.Spec.Restore.Path != "" && job.Spec.Parallelism == 3, nil
	}); err != nil {
		t.Fatalf("the upgraded job did not start from the fallback savepoint: %+v", simJob(fd))
	}
	if info := got.Status.JobStatus.SavepointInfo; info == nil || info.LastSavepoint == nil || info.LastSavepoint.TriggerType != v1beta1.TriggerUpgrade {
		t.Errorf("no upgrade savepoint recorded: %+v", info)
	}
	// Back to a known savepoint, whatever the job's state.
	sim.Storage().Write("file:///flink-data/savepoints/known")
	patchSpec(t, ctx, got, `{"spec":{"job":{"initialSavepointPath":"file:///flink-data/savepoints/known","savepointRedeployNonce":1}}}`)
	waitFor(t, ctx, fd, 2*time.Minute, "redeployed from the savepoint", func(fd *v1beta1.FlinkDeployment) bool {
		return running(fd) && fd.Status.ObservedGeneration == fd.Generation && fd.Status.Error == ""
	})
	if err := framework.Eventually(ctx, time.Minute, func(context.Context) (bool, error) {
		job := simJob(fd)
		return job != nil && job.Spec.Restore != nil && job.Spec.Restore.Path == "file:///flink-data/savepoints/known" && job.Spec.Parallelism == 3, nil
	}); err != nil {
		t.Fatalf("job after the savepoint redeploy: %+v", simJob(fd))
	}
}

// dropHAMetadata stops fd's checkpoints (so nothing writes HA metadata
// again), waits until none completes any more (one in flight when the
// fault was set may still complete and write HA metadata), and deletes
// Flink's HA ConfigMaps, as someone might; it returns the job as it was
// then.
func dropHAMetadata(t *testing.T, ctx context.Context, fd *v1beta1.FlinkDeployment) *jobmanager.JobStatus {
	t.Helper()
	sim.JobManager(memberName, fd.Namespace, fd.Name).SetFaults(jobmanager.Faults{CheckpointFailure: "storage gone"})
	count, since := len(simJob(fd).Checkpoints), time.Now()
	if err := framework.Eventually(ctx, time.Minute, func(context.Context) (bool, error) {
		if n := len(simJob(fd).Checkpoints); n != count {
			count, since = n, time.Now()
		}
		return time.Since(since) > 3*time.Second, nil
	}); err != nil {
		t.Fatal(err)
	}
	job := simJob(fd)
	if err := fleet.Members[0].Client.DeleteAllOf(ctx, &corev1.ConfigMap{}, client.InNamespace(fd.Namespace),
		client.MatchingLabels{"app": fd.Name, "configmap-type": "high-availability"}); err != nil {
		t.Fatal(err)
	}
	return job
}

func TestRestartNonceRestartsTheCluster(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	fd := deployRunning(t, ctx, haExample(t, "restart-nonce", v1beta1.UpgradeModeSavepoint))
	old := jobManager(t, ctx, fd)
	patchSpec(t, ctx, fd, `{"spec":{"restartNonce":1}}`)
	got := waitFor(t, ctx, fd, 2*time.Minute, "restarted", func(got *v1beta1.FlinkDeployment) bool {
		return running(got) && got.Status.ObservedGeneration == got.Generation && strings.Contains(got.Status.ReconciliationStatus.LastReconciledSpec, `"restartNonce":1`)
	})
	if jobManager(t, ctx, fd).UID == old.UID {
		t.Error("restartNonce did not replace the JobManager")
	}
	if job := simJob(fd); job == nil || job.Spec.Restore == nil || job.Spec.Restore.Path != got.Status.JobStatus.UpgradeSavepointPath {
		t.Errorf("the restarted job must restore from the restart's savepoint %s: %+v", got.Status.JobStatus.UpgradeSavepointPath, job)
	}
}

// TestUpgradeSavepointSurvivesLostAnswers: Flink accepts the upgrade's
// stop-with-savepoint but its answer is lost (the hub times out), or Flink
// forgets the trigger before the hub asks; either way the upgrade goes on
// from the one savepoint Flink took, with no second savepoint and no
// manual step.
func TestUpgradeSavepointSurvivesLostAnswers(t *testing.T) {
	for _, tc := range []struct {
		name   string
		faults jobmanager.Faults
		event  string
	}{
		{"answer lost", jobmanager.Faults{LoseTriggerAnswers: true}, "SavepointUnanswered"},
		{"trigger forgotten", jobmanager.Faults{ForgetTriggers: true}, "SavepointRecovered"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
			defer cancel()
			fd := deployRunning(t, ctx, haExample(t, "lost-"+strings.ReplaceAll(tc.name, " ", "-"), v1beta1.UpgradeModeSavepoint))
			old := simJob(fd)
			// The old cluster's JobManager, with its job, goes with the
			// upgrade; the new one starts without faults.
			oldJM := sim.JobManager(memberName, fd.Namespace, fd.Name)
			oldJM.SetFaults(tc.faults)
			patchSpec(t, ctx, fd, `{"spec":{"job":{"parallelism":3}}}`)
			if err := framework.Eventually(ctx, 2*time.Minute, func(ctx context.Context) (bool, error) {
				return hasEvent(ctx, fd, tc.event), nil
			}); err != nil {
				t.Fatalf("no %s event: %v", tc.event, err)
			}
			got := waitFor(t, ctx, fd, 2*time.Minute, "upgraded and running", func(got *v1beta1.FlinkDeployment) bool {
				job := simJob(got)
				return running(got) && got.Status.ObservedGeneration == got.Generation && job != nil && job.Spec.Parallelism == 3
			})
			var oldJob *jobmanager.JobStatus
			for _, j := range oldJM.Jobs() {
				if j.ID == old.ID {
					oldJob = &j
				}
			}
			if oldJob == nil || oldJob.SavepointTriggers != 1 || oldJob.Savepoint == nil {
				t.Fatalf("the old job must have taken exactly one savepoint: %+v", oldJob)
			}
			path := got.Status.JobStatus.UpgradeSavepointPath
			if r := simJob(got).Spec.Restore; path != oldJob.Savepoint.Path || r == nil || r.Path != path {
				t.Errorf("upgraded from %+v with upgradeSavepointPath %q; the savepoint taken is %q", r, path, oldJob.Savepoint.Path)
			}
			if got.Status.Error != "" {
				t.Errorf("status.error = %q", failure(got).Message)
			}
		})
	}
}

// TestSavepointOnDeletion: with kubernetes.operator.job.savepoint-on-deletion,
// deleting a FlinkDeployment stops its job with a savepoint before the
// cluster goes, and an event names the savepoint.
func TestSavepointOnDeletion(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	fd := deployRunning(t, ctx, withSettings(haExample(t, "saved-on-delete", v1beta1.UpgradeModeSavepoint), `"kubernetes.operator.job.savepoint-on-deletion":"true"`))
	jobID := simJob(fd).ID
	// The simulated JobManager, kept: it is gone from the simulator with
	// its cluster.
	jm := sim.JobManager(memberName, fd.Namespace, fd.Name)
	if err := fleet.Members[0].Client.Delete(ctx, fd); err != nil {
		t.Fatal(err)
	}
	if err := framework.Eventually(ctx, time.Minute, func(ctx context.Context) (bool, error) {
		err := fleet.Members[0].Client.Get(ctx, client.ObjectKeyFromObject(fd), &v1beta1.FlinkDeployment{})
		return apierrors.IsNotFound(err), nil
	}); err != nil {
		t.Fatalf("not deleted: %v", err)
	}
	var job *jobmanager.JobStatus
	for _, j := range jm.Jobs() {
		if j.ID == jobID {
			job = &j
		}
	}
	if job == nil || job.State != "FINISHED" || job.Savepoint == nil || job.SavepointTriggers != 1 {
		t.Fatalf("the job %+v: want it stopped with one savepoint", job)
	}
	if !hasEvent(ctx, fd, "SavepointCompleted") {
		t.Error("no event names the savepoint taken for the deletion")
	}

	// The savepoint is recorded in a snapshot that outlives the
	// FlinkDeployment, and a later FlinkDeployment starts from it.
	var snaps v1beta1.FlinkStateSnapshotList
	if err := framework.Eventually(ctx, time.Minute, func(ctx context.Context) (bool, error) {
		err := fleet.Members[0].Client.List(ctx, &snaps, client.InNamespace(fd.Namespace), client.MatchingLabels{flinkdeployment.LabelSnapshotJob: fd.Name})
		return err == nil && slices.ContainsFunc(snaps.Items, func(s v1beta1.FlinkStateSnapshot) bool {
			return s.Spec.Savepoint != nil && s.Spec.Savepoint.Path == job.Savepoint.Path
		}), err
	}); err != nil {
		t.Fatalf("no snapshot of the deletion's savepoint %s outlives the FlinkDeployment: %v (%d snapshots)", job.Savepoint.Path, err, len(snaps.Items))
	}
	later := haExample(t, "saved-on-delete-later", v1beta1.UpgradeModeSavepoint)
	later.Spec.Job.InitialSavepointPath = job.Savepoint.Path
	restored := deployRunning(t, ctx, later)
	if j := simJob(restored); j == nil || j.Restored == nil || j.Restored.Path != job.Savepoint.Path {
		t.Errorf("the later FlinkDeployment's job %+v: want it restored from %s", j, job.Savepoint.Path)
	}
}

// TestUnknownOperatorSettingIsWarned: a kubernetes.operator.* key the hub
// does not read (a typo) gets a Warning event naming it, once per spec.
func TestUnknownOperatorSettingIsWarned(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	fd := withSettings(haExample(t, "typo", v1beta1.UpgradeModeStateless), `"kubernetes.operator.periodic.savepont.interval":"1h"`)
	create(t, ctx, fd)
	if err := framework.Eventually(ctx, time.Minute, func(ctx context.Context) (bool, error) {
		var evs eventsv1.EventList
		if err := fleet.Members[0].Client.List(ctx, &evs, client.InNamespace(fd.Namespace)); err != nil {
			return false, err
		}
		for _, e := range evs.Items {
			if e.Regarding.Name == fd.Name && e.Reason == "UnknownSetting" && e.Type == corev1.EventTypeWarning && strings.Contains(e.Note, "kubernetes.operator.periodic.savepont.interval") {
				return true, nil
			}
		}
		return false, nil
	}); err != nil {
		t.Fatalf("no UnknownSetting warning naming the typo: %v", err)
	}
}

// TestStopWithSavepointDrainsWhenSet: with
// kubernetes.operator.job.drain-on-savepoint-deletion, the stop-with-
// savepoint of a savepoint upgrade drains the job (Flink emits
// MAX_WATERMARK first), as upstream passes the setting to every
// stop-with-savepoint; unset, it does not. Before, the hub never drained.
func TestStopWithSavepointDrainsWhenSet(t *testing.T) {
	for _, tc := range []struct {
		name, settings string
		drained        bool
	}{
		{"unset", "", false},
		{"set", `"kubernetes.operator.job.drain-on-savepoint-deletion":"true"`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			fd := haExample(t, "drain-"+tc.name, v1beta1.UpgradeModeSavepoint)
			if tc.settings != "" {
				fd = withSettings(fd, tc.settings)
			}
			fd, _ = deployAndPatch(t, ctx, fd, `{"spec":{"job":{"parallelism":3}}}`)
			got := waitFor(t, ctx, fd, 2*time.Minute, "upgraded from a savepoint", func(fd *v1beta1.FlinkDeployment) bool {
				return running(fd) && fd.Status.ObservedGeneration == fd.Generation && fd.Status.JobStatus.UpgradeSavepointPath != ""
			})
			path := got.Status.JobStatus.UpgradeSavepointPath
			i := slices.IndexFunc(sim.Savepoints(memberName, fd.Namespace, fd.Name), func(sp jobmanager.Checkpoint) bool { return sp.Path == path })
			if i < 0 {
				t.Fatalf("Flink took no savepoint at %s", path)
			}
			if sp := sim.Savepoints(memberName, fd.Namespace, fd.Name)[i]; sp.Drained != tc.drained {
				t.Errorf("the upgrade's stop-with-savepoint drained %v, want %v", sp.Drained, tc.drained)
			}
		})
	}
}
