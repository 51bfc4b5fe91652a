package flinkdeployment_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/deployer"
	"github.com/flink-hub/flink-hub/internal/deployer/standalone"
	"github.com/flink-hub/flink-hub/internal/problem"
)

const foreignNS = "foreign"

// flinkDeployment is a Deployment of a Flink cluster of id name that the
// hub did not make (say a Helm chart's standalone Flink): Flink's app and
// component labels as selector, no owner, no labels of its own, recreated
// on change. An apply of the hub's Deployment lands on such a one; on
// another selector (immutable, and atomic to server-side apply) or a
// rolling strategy (which cannot take the hub's) the apiserver would
// refuse it, hiding the takeover.
func flinkDeployment(name, app, component string) *appsv1.Deployment {
	selector := map[string]string{deployer.LabelApp: app, deployer.LabelComponent: component}
	pod := map[string]string{deployer.LabelApp: app, deployer.LabelComponent: component, deployer.LabelType: deployer.TypeStandalone}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: foreignNS, Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: selector},
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: pod},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: deployer.MainContainer, Image: "flink:1.20"}}},
			},
		},
	}
}

// appService is an application's Service named name; headless gives it
// no cluster IP.
func appService(name string, headless bool) *corev1.Service {
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: foreignNS, Name: name},
		Spec:       corev1.ServiceSpec{Selector: map[string]string{"app": "payments"}, Ports: []corev1.ServicePort{{Name: "web", Port: 80}}},
	}
	if headless {
		svc.Spec.ClusterIP = corev1.ClusterIPNone
	}
	return svc
}

// appConfigMap is an application's ConfigMap named name with labels.
func appConfigMap(name string, labels map[string]string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: foreignNS, Name: name, Labels: labels}, Data: map[string]string{"app.conf": "payments"}}
}

// haConfigMap is a HA ConfigMap of another Flink cluster with id name.
func haConfigMap(name string) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: foreignNS, Name: name + "-cluster-config-map",
			Labels: map[string]string{deployer.LabelApp: name, deployer.LabelConfigMapType: deployer.ConfigMapTypeHA}},
		Data: map[string]string{"checkpointID-0000000000000000001": "the other cluster's checkpoint"},
	}
}

// TestForeignObjectsAreNeverTakenOver: an object named as one of a
// FlinkDeployment's member objects (the JobManager Deployment, the
// internal and REST Services, the configuration ConfigMap, the standalone
// TaskManager Deployment, the Ingress) that the FlinkDeployment does not
// control is never written: until 2026-12-07 the hub's apply with force
// took over one nothing controlled (an application's Deployment
// `payments`, made by kubectl), forcing the hub's fields into it and
// adding the FlinkDeployment as its controller, so a tenant allowed only
// FlinkDeployments could overwrite it through the hub, and delete it by
// deleting the FlinkDeployment. Now status.error names the object and
// says to rename the FlinkDeployment or remove it; the object keeps its
// resourceVersion and has no owner, and survives the FlinkDeployment's
// deletion, with the HA ConfigMaps of the Flink cluster of that name. An
// object labelled as the hub's (in its cache) is judged the same. Once
// the object is removed, the FlinkDeployment deploys.
//
// The garbage collector does not run here (no controller manager): that
// an object with the FlinkDeployment as controller would go with it is
// Kubernetes' part.
func TestForeignObjectsAreNeverTakenOver(t *testing.T) {
	cases := []struct {
		name    string
		prepare func(fd *v1beta1.FlinkDeployment) client.Object
		// ha adds the HA ConfigMap of a Flink cluster of fd's name.
		ha bool
		// recover removes the object and expects the deployment.
		recover bool
	}{
		{"jobmanager-deployment", func(fd *v1beta1.FlinkDeployment) client.Object {
			return flinkDeployment(fd.Name, fd.Name, deployer.ComponentJobManager)
		}, true, false},
		{"internal-service", func(fd *v1beta1.FlinkDeployment) client.Object { return appService(fd.Name, true) }, false, false},
		{"rest-service", func(fd *v1beta1.FlinkDeployment) client.Object {
			return appService(deployer.RestServiceName(fd), false)
		}, false, true},
		{"config-map", func(fd *v1beta1.FlinkDeployment) client.Object { return appConfigMap(deployer.ConfigMapName(fd), nil) }, false, false},
		{"config-map-labelled-as-the-hubs", func(fd *v1beta1.FlinkDeployment) client.Object {
			return appConfigMap(deployer.ConfigMapName(fd), map[string]string{deployer.LabelManagedBy: deployer.ManagedByHub})
		}, false, true},
		{"standalone-taskmanager-deployment", func(fd *v1beta1.FlinkDeployment) client.Object {
			fd.Spec.Mode = v1beta1.ModeStandalone
			return flinkDeployment(standalone.TaskManagerDeploymentName(fd), fd.Name, deployer.ComponentTaskManager)
		}, false, false},
		{"ingress", func(fd *v1beta1.FlinkDeployment) client.Object {
			fd.Spec.Ingress = &v1beta1.IngressSpec{Template: "{{name}}.example.com"}
			return &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: foreignNS, Name: fd.Name},
				Spec: networkingv1.IngressSpec{DefaultBackend: &networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "payments", Port: networkingv1.ServiceBackendPort{Number: 80}}}}}
		}, false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
			defer cancel()
			fd := example(t, "basic/basic-example", foreignNS, "foreign-"+tc.name)
			foreign := tc.prepare(fd)
			kept := []client.Object{foreign}
			if tc.ha {
				kept = append(kept, haConfigMap(fd.Name))
			}
			namespace(t, ctx, foreignNS)
			for _, obj := range kept {
				if err := fleet.Members[0].Client.Create(ctx, obj); err != nil {
					t.Fatal(err)
				}
			}
			create(t, ctx, fd)
			refused(t, ctx, fd, foreign)
			checkUntouched(t, ctx, kept...)
			if tc.recover {
				recoverFrom(t, ctx, fd, foreign)
				return
			}
			deleteAndAwait(t, ctx, fd)
			checkUntouched(t, ctx, kept...)
		})
	}
}

// refused waits until fd's status.error says the hub does not write to
// foreign, and checks it says what to do.
func refused(t *testing.T, ctx context.Context, fd *v1beta1.FlinkDeployment, foreign client.Object) {
	t.Helper()
	got := waitFor(t, ctx, fd, time.Minute, "status.error or a deployment", func(fd *v1beta1.FlinkDeployment) bool {
		return fd.Status.Error != "" || fd.Status.ReconciliationStatus.LastReconciledSpec != ""
	})
	kind := fmt.Sprintf("%T", foreign)
	kind = kind[strings.LastIndex(kind, ".")+1:]
	p := failure(got)
	for _, want := range []string{kind + " " + foreignNS + "/" + foreign.GetName(), "not this FlinkDeployment's", "rename the FlinkDeployment", "remove the " + kind} {
		if p.Reason != problem.ReconcileFailed || !strings.Contains(p.Message, want) {
			t.Errorf("status.error %+v, want %s saying %q", p, problem.ReconcileFailed, want)
		}
	}
	if got.Status.ReconciliationStatus.LastReconciledSpec != "" {
		t.Error("recorded as deployed")
	}
}

// checkUntouched checks that each of objs (as created) is in the member
// with its resourceVersion and without an owner.
func checkUntouched(t *testing.T, ctx context.Context, objs ...client.Object) {
	t.Helper()
	for _, obj := range objs {
		now := obj.DeepCopyObject().(client.Object)
		if err := fleet.Members[0].Client.Get(ctx, client.ObjectKeyFromObject(obj), now); err != nil {
			t.Errorf("%T %s: %v", obj, obj.GetName(), err)
			continue
		}
		if now.GetResourceVersion() != obj.GetResourceVersion() || len(now.GetOwnerReferences()) > 0 {
			t.Errorf("%T %s written: resourceVersion %s (was %s), owners %+v", obj, obj.GetName(), now.GetResourceVersion(), obj.GetResourceVersion(), now.GetOwnerReferences())
		}
	}
}

// deleteAndAwait deletes fd and waits until it is gone.
func deleteAndAwait(t *testing.T, ctx context.Context, fd *v1beta1.FlinkDeployment) {
	t.Helper()
	if err := fleet.Members[0].Client.Delete(ctx, fd); err != nil {
		t.Fatal(err)
	}
	if err := framework.Eventually(ctx, time.Minute, func(ctx context.Context) (bool, error) {
		_, err := get(ctx, fd)
		return apierrors.IsNotFound(err), client.IgnoreNotFound(err)
	}); err != nil {
		t.Fatalf("%s not deleted: %v", fd.Name, err)
	}
}

// recoverFrom removes foreign and waits until fd runs with an object of
// foreign's kind and name that fd controls.
func recoverFrom(t *testing.T, ctx context.Context, fd *v1beta1.FlinkDeployment, foreign client.Object) {
	t.Helper()
	c := fleet.Members[0].Client
	if err := c.Delete(ctx, foreign); err != nil {
		t.Fatal(err)
	}
	got := waitFor(t, ctx, fd, 2*time.Minute, "running", running)
	if got.Status.Error != "" {
		t.Errorf("status.error %q", got.Status.Error)
	}
	mine := foreign.DeepCopyObject().(client.Object)
	if err := c.Get(ctx, client.ObjectKeyFromObject(foreign), mine); err != nil {
		t.Fatal(err)
	}
	if mine.GetUID() == foreign.GetUID() || !metav1.IsControlledBy(mine, got) {
		t.Errorf("%T %s: UID %s (the removed one was %s), owners %+v", mine, mine.GetName(), mine.GetUID(), foreign.GetUID(), mine.GetOwnerReferences())
	}
}
