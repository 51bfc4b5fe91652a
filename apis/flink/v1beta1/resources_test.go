package v1beta1

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestResourceRequirementsToCore(t *testing.T) {
	in := &ResourceRequirements{
		Requests: map[corev1.ResourceName]intstr.IntOrString{
			corev1.ResourceMemory: intstr.FromString("2048m"),
			corev1.ResourceCPU:    intstr.FromInt32(1),
		},
		Limits: map[corev1.ResourceName]intstr.IntOrString{corev1.ResourceMemory: intstr.FromString("4Gi")},
		Claims: []ResourceClaim{{Name: "gpu"}},
	}
	got, err := in.ToCore("spec.taskManager.resources")
	if err != nil {
		t.Fatal(err)
	}
	if q := got.Requests[corev1.ResourceCPU]; q.Cmp(resource.MustParse("1")) != 0 {
		t.Errorf("cpu request %s, want 1", q.String())
	}
	if q := got.Requests[corev1.ResourceMemory]; q.Cmp(resource.MustParse("2048m")) != 0 {
		t.Errorf("memory request %s, want 2048m", q.String())
	}
	if q := got.Limits[corev1.ResourceMemory]; q.Cmp(resource.MustParse("4Gi")) != 0 {
		t.Errorf("memory limit %s, want 4Gi", q.String())
	}
	if len(got.Claims) != 1 || got.Claims[0].Name != "gpu" {
		t.Errorf("claims %v", got.Claims)
	}

	bad := &ResourceRequirements{Limits: map[corev1.ResourceName]intstr.IntOrString{corev1.ResourceMemory: intstr.FromString("2 gigs")}}
	_, err = bad.ToCore("spec.jobManager.resources")
	if err == nil || !strings.Contains(err.Error(), "spec.jobManager.resources.limits[memory]") {
		t.Fatalf("want an error naming the field, got %v", err)
	}
	var none *ResourceRequirements
	if got, err := none.ToCore("x"); err != nil || got.Limits != nil || got.Requests != nil {
		t.Fatalf("nil requirements: %v %v", got, err)
	}
}
