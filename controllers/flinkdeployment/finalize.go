package flinkdeployment

import (
	"context"
	"errors"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/controllers/deployer"
	"github.com/flink-hub/flink-hub/controllers/deployer/native"
	"github.com/flink-hub/flink-hub/controllers/deployer/standalone"
)

// HA ConfigMap labels, as Flink's Kubernetes HA services set them.
const (
	labelConfigMapType = "configmap-type"
	configMapTypeHA    = "high-availability"
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

	jm := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: fd.Namespace, Name: deployer.JobManagerDeploymentName(fd)}}
	if err := deleteOwned(ctx, c, fd, jm, client.PropagationPolicy(metav1.DeletePropagationForeground)); err != nil {
		return err
	}
	// Wait until the JobManager is really gone before removing what it
	// might still use.
	if err := c.Get(ctx, client.ObjectKeyFromObject(jm), jm); err == nil && ownedBy(jm, fd) {
		// Its deletion event brings the next reconcile.
		return waiting(errors.New("waiting for the JobManager deployment to be deleted"), r.Options.ReconcileInterval)
	} else if err != nil && !apierrors.IsNotFound(err) {
		return err
	}

	for _, obj := range []client.Object{
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: fd.Namespace, Name: standalone.TaskManagerDeploymentName(fd)}},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: fd.Namespace, Name: fd.Name}},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: fd.Namespace, Name: deployer.RestServiceName(fd)}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: fd.Namespace, Name: deployer.ConfigMapName(fd)}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: fd.Namespace, Name: native.PodTemplateConfigMapName(fd)}},
		&networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: fd.Namespace, Name: fd.Name}},
	} {
		if err := deleteOwned(ctx, c, fd, obj, client.PropagationPolicy(metav1.DeletePropagationBackground)); err != nil {
			return err
		}
	}
	// Flink's HA ConfigMaps are created by the JobManager, not by us; with
	// the FlinkDeployment gone nothing can restore from them.
	if err := c.DeleteAllOf(ctx, &corev1.ConfigMap{}, client.InNamespace(fd.Namespace),
		client.MatchingLabels{deployer.LabelApp: fd.Name, labelConfigMapType: configMapTypeHA}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete HA ConfigMaps: %w", err)
	}

	patch := fencedPatch(fd.DeepCopy())
	controllerutil.RemoveFinalizer(fd, Finalizer)
	if err := c.Patch(ctx, fd, patch); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("remove finalizer: %w", err)
	}
	return nil
}

// deleteOwned deletes obj if it exists and is owned by fd, so a same-named
// object someone else made is never touched.
func deleteOwned(ctx context.Context, c client.Client, fd *v1beta1.FlinkDeployment, obj client.Object, opts ...client.DeleteOption) error {
	if err := c.Get(ctx, types.NamespacedName{Namespace: obj.GetNamespace(), Name: obj.GetName()}, obj); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("read %T %s: %w", obj, obj.GetName(), err)
	}
	if !ownedBy(obj, fd) || !obj.GetDeletionTimestamp().IsZero() {
		return nil
	}
	if err := c.Delete(ctx, obj, opts...); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete %T %s: %w", obj, obj.GetName(), err)
	}
	return nil
}

func ownedBy(obj client.Object, fd *v1beta1.FlinkDeployment) bool {
	for _, ref := range obj.GetOwnerReferences() {
		if ref.UID == fd.UID {
			return true
		}
	}
	return false
}
