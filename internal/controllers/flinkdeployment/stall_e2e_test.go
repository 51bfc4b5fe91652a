package flinkdeployment_test

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/problem"
)

// setQuota sets the namespace's ConfigMap quota to n, in spec and status
// (there is no quota controller in these control planes: the test plays
// it).
func setQuota(t *testing.T, ctx context.Context, ns string, n int64) {
	t.Helper()
	c := fleet.Members[0].Client
	q := &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "configmaps"}}
	hard := corev1.ResourceList{corev1.ResourceConfigMaps: *resource.NewQuantity(n, resource.DecimalSI)}
	if err := framework.Eventually(ctx, time.Minute, func(ctx context.Context) (bool, error) {
		err := c.Get(ctx, client.ObjectKeyFromObject(q), q)
		switch {
		case err == nil:
			q.Spec.Hard = hard
			if err := c.Update(ctx, q); err != nil {
				return false, nil // a conflict with quota admission: again
			}
		default:
			q.Spec.Hard = hard
			if err := c.Create(ctx, q); err != nil {
				return false, err
			}
		}
		q.Status.Hard = hard
		if q.Status.Used == nil {
			q.Status.Used = corev1.ResourceList{corev1.ResourceConfigMaps: *resource.NewQuantity(0, resource.DecimalSI)}
		}
		return c.Status().Update(ctx, q) == nil, nil
	}); err != nil {
		t.Fatalf("set quota: %v", err)
	}
}

// TestMemberRefusalsAreReportedAndClearedWhenFixed: a member that refuses
// the objects of a FlinkDeployment (a ResourceQuota, an invalid pod
// template) does not leave it silently stuck: status.error and a Warning
// event say what happened and what to do; once the cause is fixed, the
// FlinkDeployment runs and the error is gone.
func TestMemberRefusalsAreReportedAndClearedWhenFixed(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	const ns = "stalls"
	namespace(t, ctx, ns)

	t.Run("quota", func(t *testing.T) {
		setQuota(t, ctx, ns, 0)
		fd := example(t, "basic/basic-example", ns, "over-quota")
		create(t, ctx, fd)
		got := waitFor(t, ctx, fd, time.Minute, "the quota in status.error", func(fd *v1beta1.FlinkDeployment) bool {
			return strings.Contains(failure(fd).Message, "ResourceQuota") && strings.Contains(failure(fd).Message, "raise the quota")
		})
		if failure(got).Reason != problem.ReconcileFailed || !strings.HasPrefix(failure(got).Message, "reconcile failed: ") {
			t.Errorf("status.error = %q", failure(got).Message)
		}
		if err := framework.Eventually(ctx, time.Minute, func(ctx context.Context) (bool, error) {
			return hasEvent(ctx, fd, "ReconcileFailed"), nil
		}); err != nil {
			t.Errorf("no ReconcileFailed event: %v", err)
		}
		setQuota(t, ctx, ns, 100)
		waitFor(t, ctx, fd, 2*time.Minute, "running without error once the quota is raised", func(fd *v1beta1.FlinkDeployment) bool {
			return running(fd) && fd.Status.Error == ""
		})
	})

	t.Run("invalid pod template", func(t *testing.T) {
		fd := example(t, "basic/basic-example", ns, "bad-pod-template")
		fd.Spec.PodTemplate = &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "flink-main-container", Ports: []corev1.ContainerPort{{ContainerPort: 99999}},
		}}}}
		create(t, ctx, fd)
		waitFor(t, ctx, fd, time.Minute, "the invalid object in status.error", func(fd *v1beta1.FlinkDeployment) bool {
			return strings.Contains(failure(fd).Message, "as invalid") && strings.Contains(failure(fd).Message, "containerPort")
		})
		patchSpec(t, ctx, fd, `{"spec":{"podTemplate":null}}`)
		waitFor(t, ctx, fd, 2*time.Minute, "running without error once the template is fixed", func(fd *v1beta1.FlinkDeployment) bool {
			return running(fd) && fd.Status.Error == ""
		})
	})
}
