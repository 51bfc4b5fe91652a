package flinkdeployment

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/deployer"
	"github.com/flink-hub/flink-hub/internal/flinkrest"
)

// MemberCacheOptions restrict a member cluster's cache to what the
// reconciler reads: every FlinkDeployment, and of the secondary kinds only
// the objects the hub created (by its managed-by label); managed fields
// are stripped from everything cached (a Deployment keeps a marker of an
// Update entry: stripDeployment). FlinkDeployments are compacted by
// the default transform, not by a ByObject entry: the cache resolves every
// ByObject kind when it is built, and a member without the CRD yet (the
// hub installs it once the member is engaged) would never be engaged.
func MemberCacheOptions() cache.Options {
	hub := labels.SelectorFromSet(labels.Set{deployer.LabelManagedBy: deployer.ManagedByHub})
	return cache.Options{
		DefaultTransform: memberTransform,
		ByObject: map[client.Object]cache.ByObject{
			&appsv1.Deployment{}:    {Label: hub, Transform: stripDeployment},
			&corev1.Service{}:       {Label: hub},
			&corev1.ConfigMap{}:     {Label: hub, Transform: stripConfigMap},
			&networkingv1.Ingress{}: {Label: hub},
		},
	}
}

// memberTransform compacts FlinkDeployments and strips the managed fields
// of everything else.
func memberTransform(obj any) (any, error) {
	if _, ok := obj.(*v1beta1.FlinkDeployment); ok {
		return compactFlinkDeployment(obj)
	}
	return cache.TransformStripManagedFields()(obj)
}

// updateMarker stands, in a cached Deployment, for managed fields with an
// Update entry (deployer.HasUpdateEntry): one shared copy, as nothing
// changes a cached object.
var updateMarker = []metav1.ManagedFieldsEntry{{Operation: metav1.ManagedFieldsOperationUpdate}}

// stripDeployment keeps what the reconciler reads of a cached Deployment
// (metadata, replicas, status) and drops the pod template, most of its size,
// and the managed fields but for a marker of an Update entry (one the
// hub's create made: deployer.Claimer moves its fields to the hub's apply
// before the next). Nothing updates a Deployment read from the cache: the
// hub writes whole objects with server-side apply.
func stripDeployment(obj any) (any, error) {
	if d, ok := obj.(*appsv1.Deployment); ok {
		if deployer.HasUpdateEntry(d) {
			d.ManagedFields = updateMarker
		} else {
			d.ManagedFields = nil
		}
		d.Spec.Template = corev1.PodTemplateSpec{}
	}
	return obj, nil
}

// compactFlinkDeployment drops the managed fields, all but who wrote the
// status (foreign.go), and kubectl's last-applied-configuration (a third
// copy of the spec) of a cached FlinkDeployment, and lets lastStableSpec share the memory of an equal
// lastReconciledSpec (true of every stable deployment): one copy of the
// spec JSON instead of two. Strings are immutable, so nothing that reads
// the cache can tell.
func compactFlinkDeployment(obj any) (any, error) {
	if fd, ok := obj.(*v1beta1.FlinkDeployment); ok {
		fd.ManagedFields = statusWriters(fd.ManagedFields)
		delete(fd.Annotations, corev1.LastAppliedConfigAnnotation)
		rs := &fd.Status.ReconciliationStatus
		if rs.LastStableSpec == rs.LastReconciledSpec {
			rs.LastStableSpec = rs.LastReconciledSpec
		}
	}
	return obj, nil
}

// stripConfigMap drops the data of a cached ConfigMap: the reconciler only
// needs to know it exists and whom it belongs to.
func stripConfigMap(obj any) (any, error) {
	if cm, ok := obj.(*corev1.ConfigMap); ok {
		cm.ManagedFields = nil
		cm.Data, cm.BinaryData = nil, nil
	}
	return obj, nil
}

// RESTClients gives Flink REST clients through the resolver's transport
// (the member apiserver's service proxy, or the hub's URL template);
// nothing in the FlinkDeployment but its name and namespace picks the
// endpoint.
func RESTClients(resolver *flinkrest.Resolver, opts ...flinkrest.Option) JobManagerClients {
	return func(clusterName string, member *rest.Config, fd *v1beta1.FlinkDeployment) (flinkrest.Client, error) {
		ep, err := resolver.Endpoint(flinkrest.Target{Cluster: clusterName, Namespace: fd.Namespace, Name: fd.Name}, member)
		if err != nil {
			return nil, err
		}
		return flinkrest.New(ep, opts...)
	}
}
