package deployer

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
)

// HA ConfigMap labels, as Flink's Kubernetes HA services set them.
const (
	LabelConfigMapType = "configmap-type"
	ConfigMapTypeHA    = "high-availability"
)

// HALabels select the HA ConfigMaps Flink's JobManager created for fd.
func HALabels(fd *v1beta1.FlinkDeployment) client.MatchingLabels {
	return client.MatchingLabels{LabelApp: fd.Name, LabelConfigMapType: ConfigMapTypeHA}
}

// Teardown says how much of a Flink cluster DeleteCluster removes.
type Teardown struct {
	// KeepHA keeps Flink's HA ConfigMaps: a last-state upgrade restores
	// from them.
	KeepHA bool
	// Everything also removes what a next cluster would reuse (Services,
	// ConfigMaps, Ingress): the FlinkDeployment is being deleted.
	Everything bool
}

// ErrJobManagerRemains is DeleteCluster's answer while the old JobManager
// still exists: its deletion event brings the next reconcile.
var ErrJobManagerRemains = errors.New("the old JobManager is still being deleted")

// DeleteCluster removes fd's Flink cluster from the member, whichever mode
// it was deployed in (the running cluster's mode may differ from the
// spec's): every deployer's Deployments, the JobManager first and in the
// foreground; then, once the JobManager is gone, what t asks. Only objects
// fd owns are touched, and Flink's HA ConfigMaps (which have no owner)
// only while no Deployment of the JobManager's name is someone else's
// (deleteHA, reading live with live). It returns ErrJobManagerRemains
// until the JobManager is gone; call it again then.
func DeleteCluster(ctx context.Context, c client.Client, live client.Reader, fd *v1beta1.FlinkDeployment, t Teardown, deployers ...Deployer) error {
	jm := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: fd.Namespace, Name: JobManagerDeploymentName(fd)}}
	if err := DeleteOwned(ctx, c, fd, jm, client.PropagationPolicy(metav1.DeletePropagationForeground)); err != nil {
		return err
	}
	for _, d := range deployers {
		for _, obj := range d.ClusterObjects(fd) {
			if obj.GetName() == jm.Name {
				continue
			}
			if err := DeleteOwned(ctx, c, fd, obj, client.PropagationPolicy(metav1.DeletePropagationBackground)); err != nil {
				return err
			}
		}
	}
	if err := c.Get(ctx, client.ObjectKeyFromObject(jm), jm); err == nil && ownedBy(jm, fd) {
		return ErrJobManagerRemains
	} else if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	if t.Everything {
		for _, obj := range sharedObjects(fd) {
			if err := DeleteOwned(ctx, c, fd, obj, client.PropagationPolicy(metav1.DeletePropagationBackground)); err != nil {
				return err
			}
		}
		for _, d := range deployers {
			for _, obj := range d.SupportObjects(fd) {
				if err := DeleteOwned(ctx, c, fd, obj, client.PropagationPolicy(metav1.DeletePropagationBackground)); err != nil {
					return err
				}
			}
		}
	}
	if !t.KeepHA {
		return deleteHA(ctx, c, live, fd)
	}
	return nil
}

// deleteHA deletes the HA ConfigMaps of fd's Flink cluster: created by
// the JobManager, not by the hub, and without an owner (they outlive the
// cluster for a restore), so known by their labels alone, which any Flink
// cluster of fd's name (its cluster id) sets. They are left alone while
// a JobManager Deployment of that name is not fd's (a cluster fd did not
// deploy; the hub refuses to deploy over it, deployer.Claimer): they are
// its HA metadata. The Deployment is read live, metadata only: the cache
// holds only the hub's. Nothing restores from them once they are gone.
func deleteHA(ctx context.Context, w client.Writer, live client.Reader, fd *v1beta1.FlinkDeployment) error {
	jm := &metav1.PartialObjectMetadata{}
	jm.SetGroupVersionKind(appsv1.SchemeGroupVersion.WithKind("Deployment"))
	err := live.Get(ctx, client.ObjectKey{Namespace: fd.Namespace, Name: JobManagerDeploymentName(fd)}, jm)
	if err == nil && !ownedBy(jm, fd) {
		return nil
	}
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("read Deployment %s before deleting HA metadata: %w", JobManagerDeploymentName(fd), err)
	}
	if err := w.DeleteAllOf(ctx, &corev1.ConfigMap{}, client.InNamespace(fd.Namespace), HALabels(fd)); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete HA metadata: %w", err)
	}
	return nil
}

// sharedObjects are the objects of every mode besides the Deployments:
// the Services, the Flink configuration and the Ingress (names only).
func sharedObjects(fd *v1beta1.FlinkDeployment) []client.Object {
	meta := func(name string) metav1.ObjectMeta { return metav1.ObjectMeta{Namespace: fd.Namespace, Name: name} }
	return []client.Object{
		&corev1.Service{ObjectMeta: meta(fd.Name)},
		&corev1.Service{ObjectMeta: meta(RestServiceName(fd))},
		&corev1.ConfigMap{ObjectMeta: meta(ConfigMapName(fd))},
		&networkingv1.Ingress{ObjectMeta: meta(fd.Name)},
	}
}

// DeleteLeftovers deletes what an earlier deployment of fd left that
// desired (fd's objects now) lacks: the internal Service once Flink makes
// none (high availability turned on in native mode), the Ingress once the
// spec has none, the pod template ConfigMap of earlier hubs. It reads with
// r, the apiserver in the hub (the cache would start watches of kinds the
// hub does not otherwise read), and deletes only objects fd owns.
func DeleteLeftovers(ctx context.Context, r client.Reader, w client.Writer, fd *v1beta1.FlinkDeployment, desired []client.Object, deployers ...Deployer) error {
	candidates := sharedObjects(fd)
	for _, d := range deployers {
		candidates = append(candidates, d.SupportObjects(fd)...)
	}
	for _, obj := range candidates {
		if slices.ContainsFunc(desired, func(o client.Object) bool {
			return reflect.TypeOf(o) == reflect.TypeOf(obj) && o.GetName() == obj.GetName()
		}) {
			continue
		}
		if err := deleteOwned(ctx, r, w, fd, obj, client.PropagationPolicy(metav1.DeletePropagationBackground)); err != nil {
			return err
		}
	}
	return nil
}

// DeleteOwned deletes obj (by its namespace and name) if it exists and fd
// owns it, so a same-named object someone else made is never touched.
func DeleteOwned(ctx context.Context, c client.Client, fd *v1beta1.FlinkDeployment, obj client.Object, opts ...client.DeleteOption) error {
	return deleteOwned(ctx, c, c, fd, obj, opts...)
}

// deleteOwned is DeleteOwned reading with r and deleting with w.
func deleteOwned(ctx context.Context, r client.Reader, w client.Writer, fd *v1beta1.FlinkDeployment, obj client.Object, opts ...client.DeleteOption) error {
	if err := r.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("read %T %s: %w", obj, obj.GetName(), err)
	}
	if !ownedBy(obj, fd) || !obj.GetDeletionTimestamp().IsZero() {
		return nil
	}
	if err := w.Delete(ctx, obj, opts...); err != nil && !apierrors.IsNotFound(err) {
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
