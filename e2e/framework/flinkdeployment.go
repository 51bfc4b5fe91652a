package framework

import (
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
