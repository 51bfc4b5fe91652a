package flinkdeployment

import (
	"testing"
	"unsafe"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/event"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/deployer"
)

func TestDeploymentNews(t *testing.T) {
	base := func() *appsv1.Deployment {
		return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Generation: 1}, Status: appsv1.DeploymentStatus{ObservedGeneration: 1, AvailableReplicas: 1, ReadyReplicas: 1}}
	}
	fresh := func() *appsv1.Deployment { return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Generation: 1}} }
	quota := appsv1.DeploymentCondition{Type: appsv1.DeploymentReplicaFailure, Status: corev1.ConditionTrue, Reason: "FailedCreate", Message: "exceeded quota"}
	now := metav1.Now()
	updates := []struct {
		name     string
		old, new func() *appsv1.Deployment
		want     bool
	}{
		{"status write without news", base, func() *appsv1.Deployment {
			d := base()
			d.Status.Conditions = []appsv1.DeploymentCondition{{Type: "Progressing"}}
			return d
		}, false},
		{"annotation", base, func() *appsv1.Deployment { d := base(); d.Annotations = map[string]string{"a": "b"}; return d }, false},
		{"became unavailable", base, func() *appsv1.Deployment { d := base(); d.Status.AvailableReplicas = 0; return d }, true},
		{"ready count alone", base, func() *appsv1.Deployment { d := base(); d.Status.ReadyReplicas = 2; return d }, false},
		{"new generation", base, func() *appsv1.Deployment { d := base(); d.Generation = 2; return d }, true},
		{"being deleted", base, func() *appsv1.Deployment { d := base(); d.DeletionTimestamp = &now; return d }, true},
		{"first status write, not available", fresh, func() *appsv1.Deployment { d := fresh(); d.Status.ObservedGeneration = 1; return d }, false},
		{"became available", func() *appsv1.Deployment { d := fresh(); d.Status.ObservedGeneration = 1; return d }, base, true},
		{"observed generation makes it available", func() *appsv1.Deployment { d := base(); d.Status.ObservedGeneration = 0; return d }, base, true},
		{"pods cannot be created", fresh, func() *appsv1.Deployment {
			d := fresh()
			d.Status.Conditions = []appsv1.DeploymentCondition{quota}
			return d
		}, true},
		{"another failure message", func() *appsv1.Deployment {
			d := fresh()
			d.Status.Conditions = []appsv1.DeploymentCondition{quota}
			return d
		}, func() *appsv1.Deployment {
			d := fresh()
			c := quota
			c.Message = "admission webhook denied"
			d.Status.Conditions = []appsv1.DeploymentCondition{c}
			return d
		}, true},
	}
	for _, tc := range updates {
		t.Run(tc.name, func(t *testing.T) {
			if got := deploymentNews.Update(event.UpdateEvent{ObjectOld: tc.old(), ObjectNew: tc.new()}); got != tc.want {
				t.Fatalf("got %t, want %t", got, tc.want)
			}
		})
	}
	creates := []struct {
		name string
		dep  func() *appsv1.Deployment
		want bool
	}{
		{"the hub's own creation", fresh, false},
		{"already available (a re-list)", base, true},
		{"already failing (a re-list)", func() *appsv1.Deployment {
			d := fresh()
			d.Status.Conditions = []appsv1.DeploymentCondition{quota}
			return d
		}, true},
	}
	for _, tc := range creates {
		t.Run("create: "+tc.name, func(t *testing.T) {
			if got := deploymentNews.Create(event.CreateEvent{Object: tc.dep()}); got != tc.want {
				t.Fatalf("got %t, want %t", got, tc.want)
			}
		})
	}
	if !deploymentNews.Delete(event.DeleteEvent{Object: fresh()}) {
		t.Fatal("deletions must pass")
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
	// A create's Update entry stays as a marker, without its fields.
	d = &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "jm", ManagedFields: []metav1.ManagedFieldsEntry{
		{Manager: "kube-controller-manager", Operation: metav1.ManagedFieldsOperationUpdate, Subresource: "status", FieldsV1: metav1.NewFieldsV1(`{"f:status":{}}`)},
		{Manager: "flink-hub", Operation: metav1.ManagedFieldsOperationUpdate, FieldsV1: metav1.NewFieldsV1(`{"f:spec":{}}`)},
	}}}
	out, _ = stripDeployment(d)
	if got := out.(*appsv1.Deployment); !deployer.HasUpdateEntry(got) || len(got.ManagedFields) != 1 || got.ManagedFields[0].FieldsV1 != nil {
		t.Fatalf("stripped managed fields %+v, want the Update marker only", got.ManagedFields)
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
