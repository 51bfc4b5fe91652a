package framework

import (
	"strconv"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	flinkv1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
)

// ValidFlinkDeployment is a stateless application FlinkDeployment
// namespace/name that passes every rule of internal/validation.
func ValidFlinkDeployment(namespace, name string) *flinkv1beta1.FlinkDeployment {
	return &flinkv1beta1.FlinkDeployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Spec: flinkv1beta1.FlinkDeploymentSpec{
			Image: "flink:2.2", FlinkVersion: "v2_2", ServiceAccount: ptr.To("flink"),
			FlinkConfiguration: &apiextensionsv1.JSON{Raw: []byte(`{"taskmanager.numberOfTaskSlots": "2"}`)},
			JobManager:         &flinkv1beta1.JobManagerSpec{Resource: &flinkv1beta1.Resource{Memory: "1g", CPU: ptr.To(1.0)}},
			TaskManager:        &flinkv1beta1.TaskManagerSpec{Resource: &flinkv1beta1.Resource{Memory: "2g", CPU: ptr.To(1.0)}},
			Job:                &flinkv1beta1.JobSpec{JarURI: "local:///opt/flink/job.jar", Parallelism: 2, UpgradeMode: flinkv1beta1.UpgradeModeStateless},
		},
	}
}

// DeployedStatus is the status an operator writes for fd deployed from
// spec (an encoded lastReconciledSpec, also the last stable one), its
// JobManager ready and its job jobID running since now.
func DeployedStatus(fd *flinkv1beta1.FlinkDeployment, spec, jobID string, now time.Time) flinkv1beta1.FlinkDeploymentStatus {
	millis := strconv.FormatInt(now.UnixMilli(), 10)
	return flinkv1beta1.FlinkDeploymentStatus{
		JobManagerDeploymentStatus: flinkv1beta1.JobManagerReady,
		LifecycleState:             flinkv1beta1.LifecycleStable,
		JobStatus:                  flinkv1beta1.JobStatus{JobID: jobID, JobName: fd.Name, State: flinkv1beta1.JobRunning, StartTime: millis, UpdateTime: millis},
		ReconciliationStatus: flinkv1beta1.ReconciliationStatus{State: flinkv1beta1.ReconciliationDeployed, LastReconciledSpec: spec, LastStableSpec: spec,
			ReconciliationTimestamp: now.UnixMilli()},
	}
}
