package flinkdeployment_test

import (
	"context"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/deployer"
	"github.com/flink-hub/flink-hub/internal/problem"
	"github.com/flink-hub/flink-hub/internal/validation"
)

// TestKubeSystemIsRefused: a FlinkDeployment in kube-system gets the
// refusal in status.error and nothing else: no finalizer, no member
// object, no event.
func TestKubeSystemIsRefused(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := fleet.Members[0].Client
	fd := &v1beta1.FlinkDeployment{
		ObjectMeta: metav1.ObjectMeta{Name: "in-system", Namespace: "kube-system"},
		Spec: v1beta1.FlinkDeploymentSpec{
			Image: "flink:2.2", FlinkVersion: "v2_2", ServiceAccount: ptr.To("flink"),
			JobManager:  &v1beta1.JobManagerSpec{Resource: &v1beta1.Resource{Memory: "1g", CPU: ptr.To(1.0)}},
			TaskManager: &v1beta1.TaskManagerSpec{Resource: &v1beta1.Resource{Memory: "1g", CPU: ptr.To(1.0)}},
			Job:         &v1beta1.JobSpec{JarURI: "local:///opt/flink/job.jar", Parallelism: 1, UpgradeMode: v1beta1.UpgradeModeStateless},
		},
	}
	if err := c.Create(ctx, fd); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Delete(context.Background(), fd) })
	want := "invalid spec: metadata.namespace: Forbidden: " + validation.NamespaceRefusal
	got := waitFor(t, ctx, fd, 30*time.Second, "status.error says kube-system is refused", func(fd *v1beta1.FlinkDeployment) bool {
		return failure(fd) == problem.New(problem.InvalidSpec, want)
	})
	if len(got.Finalizers) != 0 {
		t.Errorf("the hub added finalizers %q to a refused FlinkDeployment", got.Finalizers)
	}
	if got.Status.ReconciliationStatus.LastReconciledSpec != "" {
		t.Errorf("the hub reconciled the refused spec: %q", got.Status.ReconciliationStatus.LastReconciledSpec)
	}
	hubObjects := client.MatchingLabels{deployer.LabelManagedBy: deployer.ManagedByHub}
	for _, list := range []client.ObjectList{&appsv1.DeploymentList{}, &corev1.ServiceList{}, &corev1.ConfigMapList{}} {
		if err := c.List(ctx, list, client.InNamespace("kube-system"), hubObjects); err != nil {
			t.Fatal(err)
		}
		if n := meta.LenList(list); n > 0 {
			t.Errorf("the hub created %d %T in kube-system", n, list)
		}
	}
	var events corev1.EventList
	if err := c.List(ctx, &events, client.InNamespace("kube-system")); err != nil {
		t.Fatal(err)
	}
	for _, e := range events.Items {
		if e.InvolvedObject.Name == fd.Name {
			t.Errorf("the hub wrote an event in kube-system: %s %s", e.Reason, e.Message)
		}
	}
}
