package flinkdeployment

import (
	"testing"
	"unsafe"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/event"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
)

func TestAvailabilityChanged(t *testing.T) {
	base := func() *appsv1.Deployment {
		return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Generation: 1}, Status: appsv1.DeploymentStatus{ObservedGeneration: 1, AvailableReplicas: 1, ReadyReplicas: 1}}
	}
	now := metav1.Now()
	cases := []struct {
		name   string
		change func(*appsv1.Deployment)
		want   bool
	}{
		{"status write without news", func(d *appsv1.Deployment) { d.Status.Conditions = []appsv1.DeploymentCondition{{Type: "Progressing"}} }, false},
		{"annotation", func(d *appsv1.Deployment) { d.Annotations = map[string]string{"a": "b"} }, false},
		{"became unavailable", func(d *appsv1.Deployment) { d.Status.AvailableReplicas = 0 }, true},
		{"ready count", func(d *appsv1.Deployment) { d.Status.ReadyReplicas = 0 }, true},
		{"new generation", func(d *appsv1.Deployment) { d.Generation = 2 }, true},
		{"observed generation", func(d *appsv1.Deployment) { d.Status.ObservedGeneration = 2 }, true},
		{"being deleted", func(d *appsv1.Deployment) { d.DeletionTimestamp = &now }, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			newDep := base()
			tc.change(newDep)
			if got := availabilityChanged.Update(event.UpdateEvent{ObjectOld: base(), ObjectNew: newDep}); got != tc.want {
				t.Fatalf("got %t, want %t", got, tc.want)
			}
		})
	}
	if !availabilityChanged.Create(event.CreateEvent{Object: base()}) || !availabilityChanged.Delete(event.DeleteEvent{Object: base()}) {
		t.Fatal("creations and deletions must pass")
	}
}

func TestCachedObjectsAreStripped(t *testing.T) {
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "jm", ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "x"}}},
		Spec:       appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c"}}}}},
		Status:     appsv1.DeploymentStatus{AvailableReplicas: 1},
	}
	out, _ := stripDeployment(d)
	got := out.(*appsv1.Deployment)
	if len(got.Spec.Template.Spec.Containers) != 0 || got.ManagedFields != nil || got.Name != "jm" || got.Status.AvailableReplicas != 1 {
		t.Fatalf("stripped deployment %+v", got)
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "conf"}, Data: map[string]string{"config.yaml": "x"}}
	out, _ = stripConfigMap(cm)
	if c := out.(*corev1.ConfigMap); c.Data != nil || c.Name != "conf" {
		t.Fatalf("stripped configmap %+v", c)
	}
}

func TestCachedFlinkDeploymentSharesEqualSpecs(t *testing.T) {
	spec := `{"spec":{"job":{"parallelism":2}}}`
	fd := &v1beta1.FlinkDeployment{ObjectMeta: metav1.ObjectMeta{Name: "fd", ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "x"}},
		Annotations: map[string]string{corev1.LastAppliedConfigAnnotation: spec, "keep": "me"}}}
	fd.Status.ReconciliationStatus.LastReconciledSpec = spec
	fd.Status.ReconciliationStatus.LastStableSpec = string([]byte(spec)) // an equal copy, as decoding makes
	out, _ := compactFlinkDeployment(fd)
	rs := out.(*v1beta1.FlinkDeployment).Status.ReconciliationStatus
	if fd.ManagedFields != nil || len(fd.Annotations) != 1 || fd.Annotations["keep"] != "me" || rs.LastStableSpec != spec || unsafe.StringData(rs.LastStableSpec) != unsafe.StringData(rs.LastReconciledSpec) {
		t.Fatalf("lastStableSpec %q not shared with lastReconciledSpec, managed fields %v", rs.LastStableSpec, fd.ManagedFields)
	}

	fd.Status.ReconciliationStatus.LastStableSpec = `{"spec":{"job":{"parallelism":1}}}`
	out, _ = compactFlinkDeployment(fd)
	if got := out.(*v1beta1.FlinkDeployment).Status.ReconciliationStatus.LastStableSpec; got != `{"spec":{"job":{"parallelism":1}}}` {
		t.Fatalf("a different lastStableSpec changed to %q", got)
	}
}
