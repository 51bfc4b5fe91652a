package deployer_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/deployer"
	"github.com/flink-hub/flink-hub/internal/deployer/native"
	"github.com/flink-hub/flink-hub/internal/deployer/standalone"
)

// TestDeleteCluster: what each teardown removes of a Flink cluster built
// by either mode, that it touches nothing fd does not own, and that it
// waits for the JobManager before removing anything else.
func TestDeleteCluster(t *testing.T) {
	deployers := []deployer.Deployer{native.New(), standalone.New()}
	fd := app(func(fd *v1beta1.FlinkDeployment) {
		fd.Spec.Ingress = &v1beta1.IngressSpec{Template: "{{name}}.example.com"}
	})
	jobManager := clusterObj{&appsv1.Deployment{}, "wordcount"}
	foreign := clusterObj{&corev1.Service{}, deployer.RestServiceName(fd)}
	for _, tc := range teardownCases(fd, jobManager, foreign) {
		t.Run(tc.name, func(t *testing.T) {
			objs := clusterObjects(t, fd, deployers, jobManager.name, foreign.name, tc.stuck)
			scheme := runtime.NewScheme()
			_ = clientgoscheme.AddToScheme(scheme)
			c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).Build()

			err := deployer.DeleteCluster(context.Background(), c, c, fd, tc.t, deployers...)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("DeleteCluster = %v, want %v", err, tc.wantErr)
			}
			checkGoneAndKept(t, c, fd, tc)
		})
	}
}

// TestDeleteClusterBesideAnotherCluster: while the Deployment named as
// fd's JobManager is not fd's (another Flink cluster of that id, which
// the hub refused to deploy over), neither an upgrade nor a deletion
// deletes the HA ConfigMaps of that name (they have no owner: only the
// JobManager's name tells whose they are), nor anything else fd does not
// own; fd's own objects go.
func TestDeleteClusterBesideAnotherCluster(t *testing.T) {
	deployers := []deployer.Deployer{native.New(), standalone.New()}
	fd := app(func(fd *v1beta1.FlinkDeployment) {
		fd.Spec.Ingress = &v1beta1.IngressSpec{Template: "{{name}}.example.com"}
	})
	// Everything named wordcount is the other cluster's.
	others := []clusterObj{{&appsv1.Deployment{}, "wordcount"}, {&corev1.Service{}, "wordcount"}, {&networkingv1.Ingress{}, "wordcount"}}
	haData := []clusterObj{{&corev1.ConfigMap{}, "wordcount-cluster-config-map"}, {&corev1.ConfigMap{}, "wordcount-0000-config-map"}}
	taskManagers := clusterObj{&appsv1.Deployment{}, standalone.TaskManagerDeploymentName(fd)}
	support := []clusterObj{{&corev1.Service{}, deployer.RestServiceName(fd)}, {&corev1.ConfigMap{}, deployer.ConfigMapName(fd)}}
	for _, tc := range []teardownCase{
		{name: "upgrade dropping HA", t: deployer.Teardown{}, gone: []clusterObj{taskManagers}, kept: append(append(slices.Clone(others), support...), haData...)},
		{name: "deletion", t: deployer.Teardown{Everything: true}, gone: append([]clusterObj{taskManagers}, support...), kept: append(slices.Clone(others), haData...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			objs := clusterObjects(t, fd, deployers, "wordcount", "wordcount", false)
			scheme := runtime.NewScheme()
			_ = clientgoscheme.AddToScheme(scheme)
			c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).Build()
			if err := deployer.DeleteCluster(context.Background(), c, c, fd, tc.t, deployers...); err != nil {
				t.Fatal(err)
			}
			checkGoneAndKept(t, c, fd, tc)
		})
	}
}

// clusterObj is an object of a Flink cluster: its kind and name.
type clusterObj struct {
	kind client.Object
	name string
}

// teardownCase is a teardown and the objects it must delete and keep.
type teardownCase struct {
	name string
	t    deployer.Teardown
	// stuck keeps the JobManager (a finalizer) after its deletion.
	stuck   bool
	wantErr error
	gone    []clusterObj
	kept    []clusterObj
}

// teardownCases are the teardowns of an upgrade and of a deletion of fd's
// cluster, whose JobManager Deployment is jobManager; foreign is a Service
// of fd's name that fd does not own.
func teardownCases(fd *v1beta1.FlinkDeployment, jobManager, foreign clusterObj) []teardownCase {
	taskManagers := clusterObj{&appsv1.Deployment{}, standalone.TaskManagerDeploymentName(fd)}
	support := []clusterObj{
		{&corev1.Service{}, "wordcount"},
		{&corev1.ConfigMap{}, deployer.ConfigMapName(fd)},
		{&corev1.ConfigMap{}, native.LegacyPodTemplateConfigMapName(fd)},
		{&networkingv1.Ingress{}, "wordcount"},
	}
	haData := []clusterObj{{&corev1.ConfigMap{}, "wordcount-cluster-config-map"}, {&corev1.ConfigMap{}, "wordcount-0000-config-map"}}
	return []teardownCase{
		{"upgrade keeping HA", deployer.Teardown{KeepHA: true}, false, nil,
			[]clusterObj{jobManager, taskManagers}, append(append([]clusterObj{foreign}, support...), haData...)},
		{"upgrade dropping HA", deployer.Teardown{}, false, nil,
			append([]clusterObj{jobManager, taskManagers}, haData...), append([]clusterObj{foreign}, support...)},
		{"deletion", deployer.Teardown{Everything: true}, false, nil,
			append(append([]clusterObj{jobManager, taskManagers}, support...), haData...), []clusterObj{foreign}},
		{"deletion while the JobManager goes", deployer.Teardown{Everything: true}, true, deployer.ErrJobManagerRemains,
			[]clusterObj{taskManagers}, append(append([]clusterObj{jobManager, foreign}, support...), haData...)},
	}
}

// clusterObjects are the objects the deployers build for fd, each once,
// the pod template ConfigMap of earlier hubs, and fd's HA ConfigMaps. The Service named foreign has no owner (someone
// else made it); when stuck, the Deployment named jobManager has a
// finalizer.
func clusterObjects(t *testing.T, fd *v1beta1.FlinkDeployment, deployers []deployer.Deployer, jobManager, foreign string, stuck bool) []client.Object {
	t.Helper()
	ha := func(name string) *corev1.ConfigMap {
		return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: fd.Namespace, Name: name,
			Labels: map[string]string{deployer.LabelApp: fd.Name, deployer.LabelConfigMapType: deployer.ConfigMapTypeHA}}}
	}
	var objs []client.Object
	for _, d := range deployers {
		built, err := d.Resources(fd, deployer.Inputs{})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range built {
			if o.GetName() == foreign {
				// A same-named Service someone else made.
				o.SetOwnerReferences(nil)
			}
			if stuck && o.GetName() == jobManager {
				if _, ok := o.(*appsv1.Deployment); ok {
					o.SetFinalizers([]string{"example.com/slow"})
				}
			}
			if !contains(objs, o) {
				objs = append(objs, o)
			}
		}
	}
	// The TaskManager pod template ConfigMap an earlier hub made.
	legacy := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: fd.Namespace, Name: native.LegacyPodTemplateConfigMapName(fd),
		OwnerReferences: objs[0].GetOwnerReferences()}}
	return append(objs, legacy, ha("wordcount-cluster-config-map"), ha("wordcount-0000-config-map"))
}

// checkGoneAndKept checks that the teardown of tc deleted its gone objects
// from c and kept its kept ones.
func checkGoneAndKept(t *testing.T, c client.Client, fd *v1beta1.FlinkDeployment, tc teardownCase) {
	t.Helper()
	for _, o := range tc.gone {
		got := o.kind.DeepCopyObject().(client.Object)
		err := c.Get(context.Background(), client.ObjectKey{Namespace: fd.Namespace, Name: o.name}, got)
		if !apierrors.IsNotFound(err) {
			t.Errorf("%T %s not deleted (%v)", o.kind, o.name, err)
		}
	}
	for _, o := range tc.kept {
		got := o.kind.DeepCopyObject().(client.Object)
		if err := c.Get(context.Background(), client.ObjectKey{Namespace: fd.Namespace, Name: o.name}, got); err != nil {
			t.Errorf("%T %s deleted, want it kept: %v", o.kind, o.name, err)
		}
	}
}

func contains(objs []client.Object, o client.Object) bool {
	for _, have := range objs {
		if have.GetName() == o.GetName() && have.GetObjectKind().GroupVersionKind().Kind == o.GetObjectKind().GroupVersionKind().Kind {
			return true
		}
	}
	return false
}

// TestDeleteLeftovers: a redeployment removes what the earlier one made
// and the new one lacks (the internal Service once HA is on, the Ingress
// once the spec has none, an earlier hub's pod template ConfigMap), keeps
// what it still has, and never touches an object fd does not own.
func TestDeleteLeftovers(t *testing.T) {
	before := app(func(fd *v1beta1.FlinkDeployment) {
		fd.Spec.Ingress = &v1beta1.IngressSpec{Template: "{{name}}.example.com"}
	})
	after := app(func(fd *v1beta1.FlinkDeployment) {
		fd.Spec.FlinkConfiguration = v1beta1.ConfigurationOf(map[string]string{"high-availability.type": "kubernetes", "high-availability.storageDir": "file:///flink-data/ha"})
	})
	for _, foreignIngress := range []bool{false, true} {
		t.Run(fmt.Sprintf("foreign Ingress %t", foreignIngress), func(t *testing.T) {
			objs := clusterObjects(t, before, []deployer.Deployer{native.New()}, "wordcount", "", false)
			if foreignIngress {
				for _, o := range objs {
					if _, ok := o.(*networkingv1.Ingress); ok {
						o.SetOwnerReferences(nil)
					}
				}
			}
			scheme := runtime.NewScheme()
			_ = clientgoscheme.AddToScheme(scheme)
			c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).Build()
			desired, err := native.New().Resources(after, deployer.Inputs{})
			if err != nil {
				t.Fatal(err)
			}
			if err := deployer.DeleteLeftovers(context.Background(), c, c, after, desired, native.New(), standalone.New()); err != nil {
				t.Fatal(err)
			}
			tc := teardownCase{
				gone: []clusterObj{{&corev1.Service{}, "wordcount"}, {&corev1.ConfigMap{}, native.LegacyPodTemplateConfigMapName(after)}},
				kept: []clusterObj{{&corev1.Service{}, deployer.RestServiceName(after)}, {&corev1.ConfigMap{}, deployer.ConfigMapName(after)},
					{&appsv1.Deployment{}, "wordcount"}, {&corev1.ConfigMap{}, "wordcount-cluster-config-map"}},
			}
			ingress := clusterObj{&networkingv1.Ingress{}, "wordcount"}
			if foreignIngress {
				tc.kept = append(tc.kept, ingress)
			} else {
				tc.gone = append(tc.gone, ingress)
			}
			checkGoneAndKept(t, c, after, tc)
		})
	}
}
