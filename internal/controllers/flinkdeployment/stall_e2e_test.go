package flinkdeployment_test

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/e2e/flinksim/jobmanager"
	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/problem"
)

// setQuota sets the namespace's ConfigMap quota to n, in spec and status
// (there is no quota controller in these control planes: the test plays
// it).
func setQuota(t *testing.T, ctx context.Context, ns string, n int64) {
	t.Helper()
	c := fleet.Members[0].Client
	q := &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "configmaps"}}
	hard := corev1.ResourceList{corev1.ResourceConfigMaps: *resource.NewQuantity(n, resource.DecimalSI)}
	if err := framework.Eventually(ctx, time.Minute, func(ctx context.Context) (bool, error) {
		err := c.Get(ctx, client.ObjectKeyFromObject(q), q)
		switch {
		case err == nil:
			q.Spec.Hard = hard
			if err := c.Update(ctx, q); err != nil {
				return false, nil // a conflict with quota admission: again
			}
		default:
			q.Spec.Hard = hard
			if err := c.Create(ctx, q); err != nil {
				return false, err
			}
		}
		q.Status.Hard = hard
		if q.Status.Used == nil {
			q.Status.Used = corev1.ResourceList{corev1.ResourceConfigMaps: *resource.NewQuantity(0, resource.DecimalSI)}
		}
		return c.Status().Update(ctx, q) == nil, nil
	}); err != nil {
		t.Fatalf("set quota: %v", err)
	}
}

// TestMemberRefusalsAreReportedAndClearedWhenFixed: a member that refuses
// the objects of a FlinkDeployment (a ResourceQuota, an invalid pod
// template) does not leave it silently stuck: status.error and a Warning
// event say what happened and what to do; once the cause is fixed, the
// FlinkDeployment runs and the error is gone.
func TestMemberRefusalsAreReportedAndClearedWhenFixed(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	const ns = "stalls"
	namespace(t, ctx, ns)

	t.Run("quota", func(t *testing.T) {
		setQuota(t, ctx, ns, 0)
		fd := example(t, "basic/basic-example", ns, "over-quota")
		create(t, ctx, fd)
		got := waitFor(t, ctx, fd, time.Minute, "the quota in status.error", func(fd *v1beta1.FlinkDeployment) bool {
			return strings.Contains(failure(fd).Message, "ResourceQuota") && strings.Contains(failure(fd).Message, "raise the quota")
		})
		if failure(got).Reason != problem.ReconcileFailed || !strings.HasPrefix(failure(got).Message, "reconcile failed: ") {
			t.Errorf("status.error = %q", failure(got).Message)
		}
		if err := framework.Eventually(ctx, time.Minute, func(ctx context.Context) (bool, error) {
			return hasEvent(ctx, fd, "ReconcileFailed"), nil
		}); err != nil {
			t.Errorf("no ReconcileFailed event: %v", err)
		}
		setQuota(t, ctx, ns, 100)
		waitFor(t, ctx, fd, 2*time.Minute, "running without error once the quota is raised", func(fd *v1beta1.FlinkDeployment) bool {
			return running(fd) && fd.Status.Error == ""
		})
	})

	t.Run("invalid pod template", func(t *testing.T) {
		fd := example(t, "basic/basic-example", ns, "bad-pod-template")
		fd.Spec.PodTemplate = &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "flink-main-container", Ports: []corev1.ContainerPort{{ContainerPort: 99999}},
		}}}}
		create(t, ctx, fd)
		waitFor(t, ctx, fd, time.Minute, "the invalid object in status.error", func(fd *v1beta1.FlinkDeployment) bool {
			return strings.Contains(failure(fd).Message, "as invalid") && strings.Contains(failure(fd).Message, "containerPort")
		})
		patchSpec(t, ctx, fd, `{"spec":{"podTemplate":null}}`)
		waitFor(t, ctx, fd, 2*time.Minute, "running without error once the template is fixed", func(fd *v1beta1.FlinkDeployment) bool {
			return running(fd) && fd.Status.Error == ""
		})
	})
}

// TestStalledCancellationIsReportedUntilTheDeletion: a last-state upgrade
// by cancellation whose job Flink keeps CANCELLING past
// kubernetes.operator.flink.client.cancel.timeout is UpgradeStalled in
// status.error (what it waits for, the setting), the job left as it is;
// deleting the FlinkDeployment then ends the upgrade, and its report with
// it, while the deletion waits on its JobManager Deployment. Before, the
// report of an upgrade nobody waited for any more stayed until the
// deletion itself was reported stalled (the readiness timeout).
func TestStalledCancellationIsReportedUntilTheDeletion(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	fd := deployRunning(t, ctx, withSettings(haExample(t, "cancel-stall", v1beta1.UpgradeModeLastState),
		`"kubernetes.operator.job.upgrade.last-state.job-cancel.enabled":"true","kubernetes.operator.flink.client.cancel.timeout":"3 s","kubernetes.operator.deployment.readiness.timeout":"10 min"`))
	simJM := sim.JobManager(memberName, fd.Namespace, fd.Name)
	simJM.SetFaults(jobmanager.Faults{HoldCancelling: true})
	t.Cleanup(func() { simJM.SetFaults(jobmanager.Faults{}) })
	patchSpec(t, ctx, fd, `{"spec":{"job":{"parallelism":3}}}`)
	got := waitFor(t, ctx, fd, time.Minute, "the stalled cancellation reported", func(fd *v1beta1.FlinkDeployment) bool {
		return failure(fd).Reason == problem.UpgradeStalled
	})
	msg := failure(got).Message
	for _, want := range []string{"CANCELLING since", "the last-state upgrade", "kubernetes.operator.flink.client.cancel.timeout"} {
		if !strings.Contains(msg, want) {
			t.Errorf("status.error %q does not say %q", msg, want)
		}
	}
	if job := simJob(fd); job == nil || string(job.State) != "CANCELLING" || got.Status.JobStatus.State != v1beta1.JobCancelling {
		t.Fatalf("job %+v, status %s: want it held CANCELLING", job, got.Status.JobStatus.State)
	}

	setJobManagerFinalizers(t, ctx, fd, holdFinalizer)
	if err := fleet.Members[0].Client.Delete(ctx, fd); err != nil {
		t.Fatal(err)
	}
	if err := framework.Eventually(ctx, time.Minute, func(ctx context.Context) (bool, error) {
		return jobManager(t, ctx, fd).DeletionTimestamp != nil, nil
	}); err != nil {
		t.Fatalf("the deletion did not delete the JobManager Deployment: %v", err)
	}
	waitFor(t, ctx, fd, framework.AwaitTimeout, "the deletion waiting without the upgrade's report", func(fd *v1beta1.FlinkDeployment) bool {
		return fd.Status.LifecycleState == v1beta1.LifecycleDeleting && failure(fd).Reason != problem.UpgradeStalled
	})
	releaseJobManager(t, ctx, fd)
	awaitGoneOnceReleased(t, ctx, fd)
}

// TestStalledCheckpointIsReported: a manual checkpoint Flink keeps in
// progress past execution.checkpointing.timeout (which should have ended
// it) and one progress check is CheckpointStalled in status.error, naming
// it, since when and the setting, as a stalled savepoint is; the job runs
// on and the trigger stays followed; once Flink completes it, it is
// recorded and the report clears. Before, the wait was silent (and held
// any spec change back without a word).
func TestStalledCheckpointIsReported(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	fd := deployRunning(t, ctx, withSettings(haExample(t, "checkpoint-stall", v1beta1.UpgradeModeLastState), `"execution.checkpointing.timeout":"2 s"`))
	simJM := sim.JobManager(memberName, fd.Namespace, fd.Name)
	simJM.SetFaults(jobmanager.Faults{HoldCheckpoints: true})
	t.Cleanup(func() { simJM.SetFaults(jobmanager.Faults{}) })
	patchSpec(t, ctx, fd, `{"spec":{"job":{"checkpointTriggerNonce":4}}}`)
	got := waitFor(t, ctx, fd, time.Minute, "the stalled checkpoint reported", func(fd *v1beta1.FlinkDeployment) bool {
		return failure(fd).Reason == problem.CheckpointStalled
	})
	if msg := failure(got).Message; !strings.Contains(msg, "the manual checkpoint in progress since") || !strings.Contains(msg, "execution.checkpointing.timeout (2s)") {
		t.Errorf("status.error %q does not say what is stalled and the setting", msg)
	}
	if info := got.Status.JobStatus.CheckpointInfo; info == nil || info.TriggerID == "" || got.Status.JobStatus.State != v1beta1.JobRunning || got.Status.JobStatus.JobID != fd.Status.JobStatus.JobID {
		t.Errorf("job %s %s, checkpoint info %+v: want the job running on and the trigger followed", got.Status.JobStatus.JobID, got.Status.JobStatus.State, info)
	}
	simJM.SetFaults(jobmanager.Faults{})
	waitFor(t, ctx, fd, time.Minute, "the checkpoint recorded, the report cleared", func(fd *v1beta1.FlinkDeployment) bool {
		info := fd.Status.JobStatus.CheckpointInfo
		return info != nil && info.TriggerID == "" && info.LastCheckpoint != nil && info.LastCheckpoint.TriggerType == v1beta1.TriggerManual && fd.Status.Error == ""
	})
}
