package flinkdeployment_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/problem"
)

// holdFinalizer is a finalizer of another controller that never removes
// it by itself.
const holdFinalizer = "example.com/hold"

// setJobManagerFinalizers replaces the finalizers of fd's JobManager
// Deployment with fins.
func setJobManagerFinalizers(t *testing.T, ctx context.Context, fd *v1beta1.FlinkDeployment, fins ...string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"metadata": map[string]any{"finalizers": fins}})
	jm := &appsv1.Deployment{}
	jm.Namespace, jm.Name = fd.Namespace, fd.Name
	if err := fleet.Members[0].Client.Patch(ctx, jm, client.RawPatch(types.MergePatchType, body)); err != nil {
		t.Fatal(err)
	}
}

// releaseJobManager removes holdFinalizer from fd's JobManager Deployment,
// keeping the others (the foreground deletion's).
func releaseJobManager(t *testing.T, ctx context.Context, fd *v1beta1.FlinkDeployment) {
	t.Helper()
	jm := jobManager(t, ctx, fd)
	setJobManagerFinalizers(t, ctx, fd, slices.DeleteFunc(jm.Finalizers, func(f string) bool { return f == holdFinalizer })...)
}

// awaitGoneOnceReleased waits for the deleted fd, whose JobManager
// Deployment was released, to be gone.
func awaitGoneOnceReleased(t *testing.T, ctx context.Context, fd *v1beta1.FlinkDeployment) {
	t.Helper()
	if err := framework.Eventually(ctx, time.Minute, func(ctx context.Context) (bool, error) {
		err := fleet.Members[0].Client.Get(ctx, client.ObjectKeyFromObject(fd), &v1beta1.FlinkDeployment{})
		return apierrors.IsNotFound(err), nil
	}); err != nil {
		t.Fatalf("not deleted once the JobManager Deployment was released: %v", err)
	}
}

// deletionStalled says whether fd's status reports its JobManager
// Deployment's deletion as stalled by holdFinalizer.
func deletionStalled(fd *v1beta1.FlinkDeployment) bool {
	p := failure(fd)
	return p.Reason == problem.DeletionStalled && strings.Contains(p.Message, holdFinalizer) && strings.Contains(p.Message, fd.Namespace+"/"+fd.Name)
}

// TestHeldJobManagerDeletionIsReported: a JobManager Deployment that a
// finalizer of another controller keeps after the hub deleted it (for the
// FlinkDeployment's deletion, for an upgrade) is reported in status.error
// once the readiness timeout passed, and the deletion or upgrade goes on
// once the finalizer goes.
func TestHeldJobManagerDeletionIsReported(t *testing.T) {
	const timeout = `"kubernetes.operator.deployment.readiness.timeout":"4 s"`
	t.Run("deletion", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		fd := deployRunning(t, ctx, withSettings(haExample(t, "held-on-delete", v1beta1.UpgradeModeStateless), timeout))
		setJobManagerFinalizers(t, ctx, fd, holdFinalizer)
		if err := fleet.Members[0].Client.Delete(ctx, fd); err != nil {
			t.Fatal(err)
		}
		waitFor(t, ctx, fd, time.Minute, "the held deletion reported", func(fd *v1beta1.FlinkDeployment) bool {
			return fd.Status.LifecycleState == v1beta1.LifecycleDeleting && deletionStalled(fd)
		})
		releaseJobManager(t, ctx, fd)
		awaitGoneOnceReleased(t, ctx, fd)
	})
	t.Run("upgrade", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		fd := deployRunning(t, ctx, withSettings(haExample(t, "held-on-upgrade", v1beta1.UpgradeModeStateless), timeout))
		old := jobManager(t, ctx, fd)
		setJobManagerFinalizers(t, ctx, fd, holdFinalizer)
		patchSpec(t, ctx, fd, `{"spec":{"job":{"parallelism":3}}}`)
		got := waitFor(t, ctx, fd, time.Minute, "the held upgrade reported", func(fd *v1beta1.FlinkDeployment) bool {
			return fd.Status.LifecycleState == v1beta1.LifecycleUpgrading && deletionStalled(fd)
		})
		if jm := jobManager(t, ctx, fd); jm.UID != old.UID || jm.DeletionTimestamp == nil {
			t.Fatalf("the held JobManager Deployment was replaced or not deleted: %+v", jm.ObjectMeta)
		}
		releaseJobManager(t, ctx, got)
		got = waitFor(t, ctx, fd, time.Minute, "the upgrade done", func(fd *v1beta1.FlinkDeployment) bool {
			return running(fd) && fd.Status.ObservedGeneration == fd.Generation
		})
		if got.Status.Error != "" {
			t.Errorf("status.error after the upgrade: %q", failure(got).Message)
		}
		if jobManager(t, ctx, fd).UID == old.UID {
			t.Error("the upgrade kept the old JobManager Deployment")
		}
	})
}
