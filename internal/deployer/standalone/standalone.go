// Package standalone builds a Flink standalone cluster on Kubernetes: a
// JobManager Deployment and a TaskManager Deployment of fixed size, with
// the same Services and configuration as native mode.
package standalone

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/deployer"
	"github.com/flink-hub/flink-hub/internal/flinkconf"
)

// TaskManagerDeploymentName is the name of the TaskManager Deployment.
func TaskManagerDeploymentName(fd *v1beta1.FlinkDeployment) string { return fd.Name + "-taskmanager" }

// Deployer is the standalone mode deployer.
type Deployer struct{}

// New returns the standalone deployer.
func New() *Deployer { return &Deployer{} }

var _ deployer.Deployer = (*Deployer)(nil)

// Mode is standalone.
func (*Deployer) Mode() v1beta1.KubernetesDeploymentMode { return v1beta1.ModeStandalone }

// TaskManagerSelector selects the TaskManager Deployment's pods.
func (*Deployer) TaskManagerSelector(fd *v1beta1.FlinkDeployment) string {
	return fmt.Sprintf("%s=%s,%s=%s", deployer.LabelApp, fd.Name, deployer.LabelComponent, deployer.ComponentTaskManager)
}

// ClusterObjects are the JobManager and TaskManager Deployments.
func (*Deployer) ClusterObjects(fd *v1beta1.FlinkDeployment) []client.Object {
	meta := func(name string) metav1.ObjectMeta { return metav1.ObjectMeta{Namespace: fd.Namespace, Name: name} }
	return []client.Object{
		&appsv1.Deployment{ObjectMeta: meta(deployer.JobManagerDeploymentName(fd))},
		&appsv1.Deployment{ObjectMeta: meta(TaskManagerDeploymentName(fd))},
	}
}

// SupportObjects: standalone adds nothing to what every mode has.
func (*Deployer) SupportObjects(*v1beta1.FlinkDeployment) []client.Object { return nil }

// TaskManagers is the TaskManager Deployment's size: spec.taskManager.replicas
// if set, else enough TaskManagers for the job's parallelism.
func (*Deployer) TaskManagers(fd *v1beta1.FlinkDeployment, conf flinkconf.Config) int32 {
	if tm := fd.Spec.TaskManager; tm != nil && tm.Replicas != nil && *tm.Replicas > 0 {
		return *tm.Replicas
	}
	return flinkconf.TaskManagers(conf.Parallelism(), conf.Slots())
}

// Resources returns the ConfigMap, Services, JobManager and TaskManager
// Deployments and Ingress of fd.
func (d *Deployer) Resources(fd *v1beta1.FlinkDeployment, in deployer.Inputs) ([]client.Object, error) {
	return deployer.BuildResources(fd, v1beta1.ModeStandalone, in, func(c *deployer.Cluster) (files map[string]string, deployments []client.Object, err error) {
		deployments, err = d.deployments(c, in)
		return nil, deployments, err
	})
}

// deployments makes the JobManager and TaskManager Deployments.
func (d *Deployer) deployments(c *deployer.Cluster, in deployer.Inputs) ([]client.Object, error) {
	fd := c.FD
	jm, err := c.PodTemplate(deployer.JobManagerRole(fd), []string{"/docker-entrypoint.sh"}, jobManagerArgs(fd, c.Conf, in))
	if err != nil {
		return nil, err
	}
	tm, err := c.PodTemplate(deployer.TaskManagerRole(fd), []string{"/docker-entrypoint.sh"}, []string{"taskmanager"})
	if err != nil {
		return nil, err
	}
	return []client.Object{
		c.Deployment(deployer.JobManagerDeploymentName(fd), deployer.ComponentJobManager, c.JobManagerReplicas(), jm),
		c.Deployment(TaskManagerDeploymentName(fd), deployer.ComponentTaskManager, d.TaskManagers(fd, c.Conf), tm),
	}, nil
}

// jobManagerArgs are Flink's standalone entrypoint arguments: "jobmanager"
// for a session cluster, "standalone-job" with the job's class, restore
// path and arguments for an application.
func jobManagerArgs(fd *v1beta1.FlinkDeployment, conf flinkconf.Config, in deployer.Inputs) []string {
	job := fd.Spec.Job
	if job == nil {
		args := []string{"jobmanager"}
		if conf.HAEnabled() {
			args = append(args, "-D", "jobmanager.rpc.address=$(_POD_IP_ADDRESS)")
		}
		return args
	}
	args := []string{"standalone-job"}
	if job.EntryClass != "" {
		args = append(args, "--job-classname", job.EntryClass)
	}
	if job.AllowNonRestoredState != nil && *job.AllowNonRestoredState {
		args = append(args, "--allowNonRestoredState")
	}
	if in.Restore.SavepointPath != "" {
		args = append(args, "--fromSavepoint", in.Restore.SavepointPath)
	}
	if conf.HAEnabled() {
		args = append(args, "-D", "jobmanager.rpc.address=$(_POD_IP_ADDRESS)")
	}
	return append(args, job.Args...)
}
