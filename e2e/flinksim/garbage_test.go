package flinksim_test

import (
	"context"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flink-hub/flink-hub/e2e/flinksim"
)

// TestForegroundDeletionCollectsDependents: as the garbage collector, the
// simulator deletes what a Deployment deleted in the foreground owns
// (Flink's Services and ConfigMaps, the Apache operator's unlabelled
// Ingress) before the Deployment goes, and nothing else: not the HA
// ConfigMaps (no owner) nor another owner's objects.
func TestForegroundDeletionCollectsDependents(t *testing.T) {
	ctx := context.Background()
	ns := namespace(t)
	startSimulator(t, flinksim.Options{Namespace: ns})
	c := nativeCluster("collected", ns, "kubernetes-session", "kubernetes.cluster-id: collected\n")
	create(t, c)
	var jm appsv1.Deployment
	if err := member.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: c.name}, &jm); err != nil {
		t.Fatal(err)
	}
	byJM := []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: jm.Name, UID: jm.UID, Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}}
	byOther := []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: "other", UID: "0b1e5a5e-0000-4000-8000-000000000001", Controller: ptr.To(true)}}
	app := map[string]string{"app": c.name, "type": "flink-native-kubernetes"}
	meta := func(name string, labels map[string]string, owners []metav1.OwnerReference) metav1.ObjectMeta {
		return metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels, OwnerReferences: owners}
	}
	backend := &networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: c.name + "-rest", Port: networkingv1.ServiceBackendPort{Number: 8081}}}
	collected := []client.Object{
		&corev1.Service{ObjectMeta: meta(c.name, app, byJM), Spec: corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone, Ports: []corev1.ServicePort{{Name: "rpc", Port: 6123}}}},
		&corev1.ConfigMap{ObjectMeta: meta("pod-template-"+c.name, app, byJM)},
		&networkingv1.Ingress{ObjectMeta: meta(c.name, nil, byJM), Spec: networkingv1.IngressSpec{DefaultBackend: backend}},
	}
	kept := []client.Object{
		&corev1.ConfigMap{ObjectMeta: meta(c.name+"-cluster-config-map", map[string]string{"app": c.name, "configmap-type": "high-availability"}, nil)},
		&corev1.ConfigMap{ObjectMeta: meta("other-config", app, byOther)},
	}
	for _, obj := range append(append([]client.Object{}, collected...), kept...) {
		if err := member.Client.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	deleteDeployment(t, ns, c.name)
	for _, obj := range collected {
		if err := member.Client.Get(ctx, client.ObjectKeyFromObject(obj), obj.DeepCopyObject().(client.Object)); !apierrors.IsNotFound(err) {
			t.Errorf("%T %s, owned by the deleted Deployment, is left: %v", obj, obj.GetName(), err)
		}
	}
	for _, obj := range kept {
		if err := member.Client.Get(ctx, client.ObjectKeyFromObject(obj), obj.DeepCopyObject().(client.Object)); err != nil {
			t.Errorf("%T %s, not the Deployment's, is gone: %v", obj, obj.GetName(), err)
		}
	}
}
