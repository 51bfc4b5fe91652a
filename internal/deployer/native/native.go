// Package native builds what Flink's native Kubernetes integration creates
// for a JobManager: the JobManager Deployment, its Services, the
// configuration and the TaskManager pod template. The JobManager then creates
// its TaskManager pods itself.
package native

import (
	"fmt"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/deployer"
	"github.com/flink-hub/flink-hub/internal/flinkconf"
)

const (
	podTemplateVolume = "pod-template-volume"
	podTemplateDir    = "/opt/flink/pod-template"
	podTemplateKey    = "taskmanager-pod-template.yaml"
)

// PodTemplateConfigMapName is the ConfigMap holding the TaskManager pod
// template the JobManager uses for the pods it creates.
func PodTemplateConfigMapName(fd *v1beta1.FlinkDeployment) string { return "pod-template-" + fd.Name }

// Deployer is the native mode deployer.
type Deployer struct{}

// New returns the native deployer.
func New() *Deployer { return &Deployer{} }

var _ deployer.Deployer = (*Deployer)(nil)

// Mode is native.
func (*Deployer) Mode() v1beta1.KubernetesDeploymentMode { return v1beta1.ModeNative }

// TaskManagerSelector selects the TaskManager pods the JobManager creates.
func (*Deployer) TaskManagerSelector(fd *v1beta1.FlinkDeployment) string {
	return fmt.Sprintf("%s=%s,%s=%s,%s=%s", deployer.LabelApp, fd.Name, deployer.LabelComponent, deployer.ComponentTaskManager, deployer.LabelType, deployer.TypeNative)
}

// TaskManagers is what the JobManager keeps running: the fixed replicas
// (kubernetes.internal.taskmanager.replicas) if set, else enough slots for
// the job's parallelism.
func (*Deployer) TaskManagers(_ *v1beta1.FlinkDeployment, conf flinkconf.Config) int32 {
	if n, err := strconv.Atoi(conf[flinkconf.KeyTMReplicas]); err == nil && n > 0 {
		return int32(n)
	}
	return flinkconf.TaskManagers(conf.Parallelism(), conf.Slots())
}

// ClusterObjects is the JobManager Deployment: the JobManager creates its
// TaskManager pods itself, and they go with it.
func (*Deployer) ClusterObjects(fd *v1beta1.FlinkDeployment) []client.Object {
	return []client.Object{&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: fd.Namespace, Name: deployer.JobManagerDeploymentName(fd)}}}
}

// SupportObjects is the TaskManager pod template ConfigMap.
func (*Deployer) SupportObjects(fd *v1beta1.FlinkDeployment) []client.Object {
	return []client.Object{&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: fd.Namespace, Name: PodTemplateConfigMapName(fd)}}}
}

// Resources returns the ConfigMaps, Services, JobManager Deployment and
// Ingress of fd.
func (d *Deployer) Resources(fd *v1beta1.FlinkDeployment, in deployer.Inputs) ([]client.Object, error) {
	return deployer.BuildResources(fd, v1beta1.ModeNative, in, d.build)
}

// build makes the TaskManager pod template ConfigMap and the JobManager
// Deployment, which mounts it.
func (d *Deployer) build(c *deployer.Cluster) (configMaps, deployments []client.Object, err error) {
	fd := c.FD
	tmTemplate, err := d.taskManagerTemplate(c)
	if err != nil {
		return nil, nil, err
	}
	target := "kubernetes-session"
	if fd.Spec.Job != nil {
		target = "kubernetes-application"
	}
	pod, err := c.PodTemplate(deployer.JobManagerRole(fd), []string{"/docker-entrypoint.sh"}, []string{"kubernetes-jobmanager.sh", target})
	if err != nil {
		return nil, nil, err
	}
	main := &pod.Spec.Containers[mainIndex(pod.Spec.Containers)]
	main.VolumeMounts = append(main.VolumeMounts, corev1.VolumeMount{Name: podTemplateVolume, MountPath: podTemplateDir})
	pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{
		Name: podTemplateVolume,
		VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: PodTemplateConfigMapName(fd)},
		}},
	})
	jm := c.Deployment(deployer.JobManagerDeploymentName(fd), deployer.ComponentJobManager, c.JobManagerReplicas(), pod)
	return []client.Object{tmTemplate}, []client.Object{jm}, nil
}

// taskManagerTemplate renders the TaskManager pod the JobManager will
// create, as Flink reads it from kubernetes.pod-template-file.taskmanager.
func (d *Deployer) taskManagerTemplate(c *deployer.Cluster) (*corev1.ConfigMap, error) {
	role := deployer.TaskManagerRole(c.FD)
	role.FlinkDecorates = true
	tpl, err := c.PodTemplate(role, nil, []string{"kubernetes-taskmanager.sh"})
	if err != nil {
		return nil, err
	}
	pod := corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: tpl.ObjectMeta,
		Spec:       tpl.Spec,
	}
	raw, err := yaml.Marshal(pod)
	if err != nil {
		return nil, err
	}
	return &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: c.Meta(PodTemplateConfigMapName(c.FD), deployer.ComponentTaskManager),
		Data:       map[string]string{podTemplateKey: string(raw)},
	}, nil
}

func mainIndex(cs []corev1.Container) int {
	for i := range cs {
		if cs[i].Name == deployer.MainContainer {
			return i
		}
	}
	return 0
}
