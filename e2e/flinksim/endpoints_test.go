package flinksim

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

// TestEndpointsMemoFollowsValuesNotCopies: the memo that spares unchanged
// Endpoints a write is the same for two copies of the same Service and
// pods (an informer's copies differ in their pointers: probes, security
// contexts), and changes with what the endpoints show.
func TestEndpointsMemoFollowsValuesNotCopies(t *testing.T) {
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{UID: "svc"}, Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{
		{Name: "rest", Port: 8081, TargetPort: intstr.FromString("rest"), Protocol: corev1.ProtocolTCP, AppProtocol: ptr.To("http")}}}}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{UID: "jm"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "flink-main-container",
			Ports:           []corev1.ContainerPort{{Name: "rest", ContainerPort: 8081, Protocol: corev1.ProtocolTCP}},
			ReadinessProbe:  &corev1.Probe{PeriodSeconds: 10},
			SecurityContext: &corev1.SecurityContext{RunAsNonRoot: ptr.To(true)}}}},
		Status: corev1.PodStatus{PodIP: "10.0.0.1", Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}}}
	m := &member{}
	memo := m.endpointsMemo(svc, []*corev1.Pod{pod})
	if again := m.endpointsMemo(svc.DeepCopy(), []*corev1.Pod{pod.DeepCopy()}); again != memo {
		t.Fatalf("copies give another memo:\n%s\n%s", memo, again)
	}
	unready := pod.DeepCopy()
	unready.Status.Conditions[0].Status = corev1.ConditionFalse
	moved := pod.DeepCopy()
	moved.Status.PodIP = "10.0.0.2"
	renumbered := pod.DeepCopy()
	renumbered.Spec.Containers[0].Ports[0].ContainerPort = 9081
	otherPort := svc.DeepCopy()
	otherPort.Spec.Ports[0].Port = 80
	for name, got := range map[string]string{
		"pod not ready":  m.endpointsMemo(svc, []*corev1.Pod{unready}),
		"pod moved":      m.endpointsMemo(svc, []*corev1.Pod{moved}),
		"container port": m.endpointsMemo(svc, []*corev1.Pod{renumbered}),
		"service port":   m.endpointsMemo(otherPort, []*corev1.Pod{pod}),
		"no pod":         m.endpointsMemo(svc, nil),
	} {
		if got == memo {
			t.Errorf("%s: the memo did not change", name)
		}
	}
}
