package flinkdeployment

import (
	"context"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/controllers/deployer"
)

// finalize deletes what the hub created for a FlinkDeployment being
// deleted: the JobManager Deployment first (foreground, so its pods are gone
// before the rest), then the TaskManagers, Services, ConfigMaps, Ingress and
// Flink's HA ConfigMaps, and finally removes the finalizer. It never runs
// because a member was unregistered: only a deleted FlinkDeployment has a
// deletion timestamp.
func (r *Reconciler) finalize(ctx context.Context, s *state) error {
	fd := s.fd
	if !controllerutil.ContainsFinalizer(fd, Finalizer) {
		return nil
	}
	c := s.cluster.GetClient()
	if fd.Status.LifecycleState != v1beta1.LifecycleDeleting {
		before := fd.DeepCopy()
		fd.Status.LifecycleState = v1beta1.LifecycleDeleting
		if err := r.writeStatus(ctx, c, fd, before); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("mark deleting: %w", err)
		}
	}

	err := deployer.DeleteCluster(ctx, c, fd, deployer.Teardown{Everything: true}, r.deployers()...)
	if errors.Is(err, deployer.ErrJobManagerRemains) {
		// Its deletion event brings the next reconcile.
		return waiting(errors.New("waiting for the JobManager deployment to be deleted"), r.Options.ReconcileInterval)
	}
	if err != nil {
		return err
	}

	patch := fencedPatch(fd.DeepCopy())
	controllerutil.RemoveFinalizer(fd, Finalizer)
	if err := c.Patch(ctx, fd, patch); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("remove finalizer: %w", err)
	}
	return nil
}

// deployers are the reconciler's deployers, in a fixed order.
func (r *Reconciler) deployers() []deployer.Deployer {
	out := make([]deployer.Deployer, 0, len(r.Deployers))
	for _, mode := range []v1beta1.KubernetesDeploymentMode{v1beta1.ModeNative, v1beta1.ModeStandalone} {
		if d, ok := r.Deployers[mode]; ok {
			out = append(out, d)
		}
	}
	return out
}
