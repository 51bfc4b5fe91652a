// Package native builds what Flink's native Kubernetes integration creates
// for a JobManager: the JobManager Deployment, its Services, and the
// configuration ConfigMap, which also holds the TaskManager pod template. The JobManager then creates
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

// LegacyPodTemplateConfigMapName is the ConfigMap in which hubs before
// the TaskManager pod template moved into the configuration ConfigMap kept
// it: such a ConfigMap is removed on the next deployment or the deletion.
func LegacyPodTemplateConfigMapName(fd *v1beta1.FlinkDeployment) string {
	return "pod-template-" + fd.Name
}

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

// SupportObjects is the TaskManager pod template ConfigMap of earlier
// hubs; the template is a file of the configuration ConfigMap now.
func (*Deployer) SupportObjects(fd *v1beta1.FlinkDeployment) []client.Object {
	return []client.Object{&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: fd.Namespace, Name: LegacyPodTemplateConfigMapName(fd)}}}
}

// Resources returns the ConfigMaps, Services, JobManager Deployment and
// Ingress of fd.
func (d *Deployer) Resources(fd *v1beta1.FlinkDeployment, in deployer.Inputs) ([]client.Object, error) {
	return deployer.BuildResources(fd, v1beta1.ModeNative, in, d.build)
}

// build makes the TaskManager pod template, a file of the configuration
// ConfigMap that the JobManager reads from kubernetes.pod-template-file.taskmanager, and the
// JobManager Deployment.
func (d *Deployer) build(c *deployer.Cluster) (files map[string]string, deployments []client.Object, err error) {
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
	jm := c.Deployment(deployer.JobManagerDeploymentName(fd), deployer.ComponentJobManager, c.JobManagerReplicas(), pod)
	return map[string]string{flinkconf.TaskManagerPodTemplateFile: tmTemplate}, []client.Object{jm}, nil
}

// taskManagerTemplate renders the TaskManager pod the JobManager will
// create, as Flink reads it from kubernetes.pod-template-file.taskmanager.
func (d *Deployer) taskManagerTemplate(c *deployer.Cluster) (string, error) {
	role := deployer.TaskManagerRole(c.FD)
	role.FlinkDecorates = true
	tpl, err := c.PodTemplate(role, nil, []string{"kubernetes-taskmanager.sh"})
	if err != nil {
		return "", err
	}
	pod := corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: tpl.ObjectMeta,
		Spec:       tpl.Spec,
	}
	raw, err := yaml.Marshal(pod)
	if err != nil {
		return "", err
	}
	return string(raw), nil
}
