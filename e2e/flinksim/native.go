package flinksim

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// syncNativeTaskManagers plays Flink's KubernetesResourceManager: it
// creates the TaskManager pods the native JobManager asks for, named
// <cluster-id>-taskmanager-1-<n>, labelled app, component=taskmanager,
// type=flink-native-kubernetes and owned by the JobManager Deployment, and
// deletes those it no longer needs.
func (m *member) syncNativeTaskManagers(ctx context.Context, jm *appsv1.Deployment, c *flinkCluster, pods []*corev1.Pod) ([]*corev1.Pod, error) {
	want := c.jm.WantedTaskManagers()
	have := map[string]bool{}
	var keep []*corev1.Pod
	for _, p := range pods {
		if p.Labels[labelComponent] != componentTaskManager || !ownedBy(p, jm.UID) {
			keep = append(keep, p)
			continue
		}
		idx, ok := replicaIndex(p.Name, c.config.ClusterID+"-taskmanager-1-")
		if !ok || idx > want {
			if err := m.deletePod(ctx, p); err != nil {
				return nil, err
			}
			continue
		}
		have[p.Name] = true
		keep = append(keep, p)
	}
	image := ""
	if fc := flinkContainer(&jm.Spec.Template.Spec); fc != nil {
		image = fc.Image
	}
	for i := 1; i <= want; i++ {
		name := fmt.Sprintf("%s-taskmanager-1-%d", c.config.ClusterID, i)
		if have[name] {
			continue
		}
		owner := metav1.NewControllerRef(jm, appsv1.SchemeGroupVersion.WithKind("Deployment"))
		p := &corev1.Pod{
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
		if err := m.client.Create(ctx, p); err != nil {
			if apierrors.IsAlreadyExists(err) {
				continue
			}
			return nil, fmt.Errorf("creating TaskManager pod %s/%s: %w", p.Namespace, p.Name, err)
		}
		keep = append(keep, p)
	}
	return keep, nil
}
