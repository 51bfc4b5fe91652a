package flinksim

import (
	"context"
	"fmt"
	"path"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"
)

// Where Flink finds the TaskManager pod template, and what its decorators
// add to every TaskManager pod.
const (
	keyTMPodTemplate      = "kubernetes.pod-template-file.taskmanager"
	keyDefaultPodTemplate = "kubernetes.pod-template-file.default"
	flinkConfDir          = "/opt/flink/conf"
	flinkConfVolume       = "flink-config-volume"
	taskManagerRPCPort    = 6122
)

// syncNativeTaskManagers plays Flink's KubernetesResourceManager: it
// creates the TaskManager pods the native JobManager asks for, named
// <cluster-id>-taskmanager-1-<n>, from the TaskManager pod template as
// Flink's decorators complete it (taskManagerPod), through the apiserver,
// and deletes those it no longer needs. A template Flink cannot load, or
// a pod the apiserver refuses, creates no pod: the error is logged and
// kept for TaskManagerPodError, and the next sync tries again, as Flink's
// resource manager does.
func (m *member) syncNativeTaskManagers(ctx context.Context, jm *appsv1.Deployment, c *flinkCluster, pods []*corev1.Pod) ([]*corev1.Pod, error) {
	want := c.jm.WantedTaskManagers()
	key := types.NamespacedName{Namespace: jm.Namespace, Name: jm.Labels[labelApp]}
	if c.tmTemplateErr != nil && want > 0 {
		m.taskManagerPodError(key, c, c.tmTemplateErr.Error())
		return pods, nil
	}
	mine := func(p *corev1.Pod) bool {
		return p.Labels[labelComponent] == componentTaskManager && ownedBy(p, jm.UID)
	}
	kept, err := m.syncIndexedPods(ctx, pods, mine, c.config.ClusterID+"-taskmanager-1-", 1, want, "TaskManager pod", func(name string) *corev1.Pod {
		return taskManagerPod(c.tmTemplate, name, jm, c.config.ClusterID)
	})
	if err != nil {
		m.taskManagerPodError(key, c, err.Error())
		return pods, nil
	}
	m.taskManagerPodError(key, c, "")
	return kept, nil
}

// taskManagerPodError records msg as the cluster's TaskManager pod error
// ("" for none) and logs it when it changes.
func (m *member) taskManagerPodError(key types.NamespacedName, c *flinkCluster, msg string) {
	if old, _ := c.tmErr.Swap(msg).(string); old != msg && msg != "" {
		m.opts.Log.Info("cannot create TaskManager pods", "member", m.name, "cluster", key, "reason", msg)
	}
}

// loadTaskManagerTemplate reads the TaskManager pod template the Flink
// configuration names from the configuration ConfigMap, which Flink sees
// mounted at /opt/flink/conf; no template is an empty pod, as in Flink.
func loadTaskManagerTemplate(cm *corev1.ConfigMap, conf map[string]string) (*corev1.Pod, error) {
	file := firstNonEmpty(conf[keyTMPodTemplate], conf[keyDefaultPodTemplate])
	if file == "" {
		return &corev1.Pod{}, nil
	}
	text, ok := cm.Data[path.Base(file)]
	if path.Dir(path.Clean(file)) != flinkConfDir || !ok {
		return nil, fmt.Errorf("pod template file %s does not exist", file)
	}
	var pod corev1.Pod
	if err := yaml.Unmarshal([]byte(text), &pod); err != nil {
		return nil, fmt.Errorf("cannot load pod template file %s: %w", file, err)
	}
	return &pod, nil
}

// taskManagerPod is the TaskManager pod name as Flink builds it from the
// template tpl: its name, labels and owner, the JobManager's image, and
// what Flink's decorators append to the main container (the rpc port, the
// pod IP environment variable, the configuration mount) and to the pod
// (the configuration volume), whatever the template already holds.
func taskManagerPod(tpl *corev1.Pod, name string, jm *appsv1.Deployment, clusterID string) *corev1.Pod {
	pod := &corev1.Pod{ObjectMeta: *tpl.ObjectMeta.DeepCopy(), Spec: *tpl.Spec.DeepCopy()}
	pod.Name, pod.Namespace, pod.ResourceVersion, pod.UID = name, jm.Namespace, "", ""
	pod.Labels = mergeLabels(pod.Labels, map[string]string{labelApp: jm.Labels[labelApp], labelComponent: componentTaskManager, labelType: typeNative})
	pod.OwnerReferences = []metav1.OwnerReference{*metav1.NewControllerRef(jm, appsv1.SchemeGroupVersion.WithKind("Deployment"))}
	pod.Spec.NodeName = nodeName
	if pod.Spec.ServiceAccountName == "" {
		pod.Spec.ServiceAccountName = jm.Spec.Template.Spec.ServiceAccountName
	}
	ctr := flinkContainer(&pod.Spec)
	if ctr == nil {
		pod.Spec.Containers = append(pod.Spec.Containers, corev1.Container{Name: mainContainer})
		ctr = &pod.Spec.Containers[len(pod.Spec.Containers)-1]
	}
	if fc := flinkContainer(&jm.Spec.Template.Spec); fc != nil {
		ctr.Image = fc.Image
	}
	if len(ctr.Args) == 0 {
		ctr.Args = []string{"taskmanager"}
	}
	ctr.Ports = append(ctr.Ports, corev1.ContainerPort{Name: "rpc", ContainerPort: taskManagerRPCPort, Protocol: corev1.ProtocolTCP})
	ctr.Env = append(ctr.Env, corev1.EnvVar{Name: "_POD_IP_ADDRESS", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "status.podIP"}}})
	ctr.VolumeMounts = append(ctr.VolumeMounts, corev1.VolumeMount{Name: flinkConfVolume, MountPath: flinkConfDir})
	pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{Name: flinkConfVolume, VolumeSource: corev1.VolumeSource{
		ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: configMapName(clusterID)}}}})
	return pod
}
