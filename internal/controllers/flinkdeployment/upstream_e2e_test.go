package flinkdeployment_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/controllers/flinkdeployment/plan"
)

// noHAExample is the upstream HA example with last-state upgrades and
// without HA, nor a savepoint directory: upstream runs it since
// FLINK-35414.
func noHAExample(t *testing.T, name string) *v1beta1.FlinkDeployment {
	t.Helper()
	fd := haExample(t, name, v1beta1.UpgradeModeLastState)
	fd.Spec.FlinkConfiguration = &apiextensionsv1.JSON{Raw: []byte(`{"taskmanager.numberOfTaskSlots":"2","state.checkpoints.dir":"file:///flink-data/checkpoints"}`)}
	fd.Spec.Job.SavepointTriggerNonce = nil // manual savepoints need a savepoint directory
	return fd
}

// TestLastStateWithoutHA: as upstream, a last-state upgrade and a suspend
// of a job without HA cancel it and start it again from its latest
// checkpoint (retained on cancellation), never empty.
func TestLastStateWithoutHA(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	fd := deployRunning(t, ctx, noHAExample(t, "laststate-noha"))
	old := simJob(fd)
	patchSpec(t, ctx, fd, `{"spec":{"job":{"parallelism":3}}}`)
	waitFor(t, ctx, fd, 2*time.Minute, "upgraded", func(fd *v1beta1.FlinkDeployment) bool {
		return running(fd) && fd.Status.ObservedGeneration == fd.Generation && strings.Contains(fd.Status.ReconciliationStatus.LastReconciledSpec, `"parallelism":3`)
	})
	if evs := eventsOf(ctx, fd, "CancellingJob"); len(evs) == 0 || !strings.Contains(evs[0].Note, "no high availability") {
		t.Errorf("CancellingJob events %+v, want one saying there is no HA", evs)
	}
	upgraded := simJob(fd)
	if r := upgraded.Spec.Restore; r == nil || !strings.Contains(r.Path, old.ID+"/chk-") || upgraded.Spec.Parallelism != 3 {
		t.Fatalf("the upgraded job did not start from the cancelled job %s's checkpoint: %+v", old.ID, upgraded)
	}

	if err := framework.Eventually(ctx, time.Minute, func(context.Context) (bool, error) {
		return len(simJob(fd).Checkpoints) > 0, nil
	}); err != nil {
		t.Fatalf("the upgraded job completed no checkpoint: %v", err)
	}
	suspendThenResume(t, ctx, fd, "the cancelled job "+upgraded.ID+"'s latest checkpoint", func(path string) bool {
		return strings.Contains(path, upgraded.ID+"/chk-")
	})
}

// TestStaleCheckpointIsNotCancelledTo: as upstream, the maximum
// checkpoint age (kubernetes.operator.job.upgrade.last-state.max.allowed.checkpoint.age,
// 3 s) holds on the cancellation path too: a last-state upgrade of a
// running job whose latest checkpoint is older takes a savepoint and
// starts from it, instead of cancelling the job and starting from that
// checkpoint.
func TestStaleCheckpointIsNotCancelledTo(t *testing.T) {
	const maxAge = `"kubernetes.operator.job.upgrade.last-state.max.allowed.checkpoint.age":"3 s"`
	for _, tc := range []struct {
		name string
		fd   func(t *testing.T) *v1beta1.FlinkDeployment
	}{
		{"without HA", func(t *testing.T) *v1beta1.FlinkDeployment {
			// The HA example names a savepoint directory; this one must too.
			return withSettings(noHAExample(t, "stale-noha"), maxAge+`,"state.savepoints.dir":"file:///flink-data/savepoints"`)
		}},
		{"job-cancel.enabled", func(t *testing.T) *v1beta1.FlinkDeployment {
			return withSettings(haExample(t, "stale-cancel", v1beta1.UpgradeModeLastState),
				maxAge+`,"kubernetes.operator.job.upgrade.last-state.job-cancel.enabled":"true"`)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			got := upgradeWithStaleCheckpoint(t, ctx, tc.fd(t))
			if evs := eventsOf(ctx, got, "CancellingJob"); len(evs) > 0 {
				t.Errorf("the job was cancelled to its stale checkpoint: %+v", evs)
			}
		})
	}
}

// TestLostJobManagerWithoutHAIsNotRecoveredEmpty: as upstream, the lost
// JobManager Deployment of a stateful job without HA is not recreated
// (its job would start without its state): it is reported.
func TestLostJobManagerWithoutHAIsNotRecoveredEmpty(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	fd := deployRunning(t, ctx, noHAExample(t, "lost-jm-noha"))
	lost := jobManager(t, ctx, fd)
	if err := fleet.Members[0].Client.Delete(ctx, lost, client.PropagationPolicy("Foreground")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, fd, 2*time.Minute, "the lost JobManager reported", func(fd *v1beta1.FlinkDeployment) bool {
		return strings.Contains(fd.Status.Error, plan.MsgNoRecoveryWithoutHA)
	})
	// A foreground deletion can still hold the lost Deployment (no
	// garbage collector here): only another one would be a recreation.
	framework.Hold(t, 3*time.Second, "the JobManager Deployment not recreated", func() error {
		var dep appsv1.Deployment
		err := fleet.Members[0].Client.Get(ctx, client.ObjectKeyFromObject(fd), &dep)
		switch {
		case apierrors.IsNotFound(err):
			return nil
		case err != nil:
			return err
		case dep.UID != lost.UID:
			return fmt.Errorf("the JobManager Deployment was recreated: its job would start empty")
		}
		return nil
	})
}

// TestSpecsUpstreamAcceptsRun: what upstream's validator accepts and
// flink-hub refused before deploys and runs: the JobManager's memory only
// as jobmanager.memory.process.size, a CPU of 0 (no CPU asked for), an
// empty serviceAccount (the namespace's default), a negative parallelism
// that fixed TaskManagers override.
func TestSpecsUpstreamAcceptsRun(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	fd := haExample(t, "upstream-accepts", v1beta1.UpgradeModeStateless)
	fd = withSettings(fd, `"jobmanager.memory.process.size":"1600m"`)
	fd.Spec.JobManager = &v1beta1.JobManagerSpec{Resource: &v1beta1.Resource{CPU: ptr.To(0.0)}}
	fd.Spec.TaskManager.Replicas = ptr.To[int32](1)
	fd.Spec.Job.Parallelism = -1
	fd.Spec.ServiceAccount = ptr.To("")
	create(t, ctx, fd)
	waitFor(t, ctx, fd, 2*time.Minute, "running", running)
	var main *corev1.Container
	containers := jobManager(t, ctx, fd).Spec.Template.Spec.Containers
	for i := range containers {
		if containers[i].Name == "flink-main-container" {
			main = &containers[i]
		}
	}
	if main == nil {
		t.Fatal("no flink-main-container in the JobManager Deployment")
	}
	if mem := main.Resources.Requests[corev1.ResourceMemory]; mem.Cmp(resource.MustParse("1600Mi")) != 0 {
		t.Errorf("JobManager memory request %s, want the process size 1600Mi", mem.String())
	}
	if cpu := main.Resources.Requests[corev1.ResourceCPU]; !cpu.IsZero() {
		t.Errorf("JobManager cpu request %s, want 0", cpu.String())
	}
	if job := simJob(fd); job == nil || job.Spec.Parallelism != 2 {
		t.Errorf("job %+v, want the parallelism of one TaskManager's 2 slots", job)
	}
}
