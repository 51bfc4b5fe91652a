package flinksim

import (
	"context"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// syncNativeTaskManagers plays Flink's KubernetesResourceManager: it
// creates the TaskManager pods the native JobManager asks for, named
// <cluster-id>-taskmanager-1-<n>, labelled app, component=taskmanager,
// type=flink-native-kubernetes and owned by the JobManager Deployment, and
// deletes those it no longer needs.
func (m *member) syncNativeTaskManagers(ctx context.Context, jm *appsv1.Deployment, c *flinkCluster, pods []*corev1.Pod) ([]*corev1.Pod, error) {
	want := c.jm.WantedTaskManagers()
	mine := func(p *corev1.Pod) bool {
		return p.Labels[labelComponent] == componentTaskManager && ownedBy(p, jm.UID)
	}
	image := ""
	if fc := flinkContainer(&jm.Spec.Template.Spec); fc != nil {
		image = fc.Image
	}
	return m.syncIndexedPods(ctx, pods, mine, c.config.ClusterID+"-taskmanager-1-", 1, want, "TaskManager pod", func(name string) *corev1.Pod {
		owner := metav1.NewControllerRef(jm, appsv1.SchemeGroupVersion.WithKind("Deployment"))
		return &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: jm.Namespace,
				Labels:          map[string]string{labelApp: jm.Labels[labelApp], labelComponent: componentTaskManager, labelType: typeNative},
				OwnerReferences: []metav1.OwnerReference{*owner}},
			Spec: corev1.PodSpec{
				NodeName:           nodeName,
				ServiceAccountName: jm.Spec.Template.Spec.ServiceAccountName,
				Containers: []corev1.Container{{Name: mainContainer, Image: image, Args: []string{"taskmanager"},
					Ports: []corev1.ContainerPort{{Name: "rpc", ContainerPort: 6122}}}},
			},
		}
	})
}
