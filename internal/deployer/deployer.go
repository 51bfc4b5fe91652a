// Package deployer defines what a FlinkDeployment becomes in its member
// cluster. A Deployer returns the desired member objects; the native and
// standalone subpackages implement it for Flink's two Kubernetes modes.
package deployer

import (
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/flinkconf"

	"github.com/flink-hub/flink-hub/internal/flinknames"
)

// Labels and values on the objects the hub creates. The app, component and
// type labels are Flink's own, so tools that know Flink find the pods.
const (
	LabelApp       = "app"
	LabelComponent = "component"
	LabelType      = "type"
	// LabelManagedBy marks every object the hub creates; the hub caches
	// secondary objects only with this label.
	LabelManagedBy = "app.kubernetes.io/managed-by"
	// ManagedByHub is LabelManagedBy's value.
	ManagedByHub = "flink-hub"

	ComponentJobManager  = "jobmanager"
	ComponentTaskManager = "taskmanager"
	TypeNative           = "flink-native-kubernetes"
	TypeStandalone       = "flink-standalone-kubernetes"

	// AnnotationGeneration records the FlinkDeployment generation an object
	// was built from.
	AnnotationGeneration = "flinkdeployment.flink.apache.org/generation"

	// MainContainer is the name of the Flink container in every pod.
	MainContainer = "flink-main-container"
)

// Inputs are what a deployment needs besides the spec.
type Inputs struct {
	// Restore says which savepoint or checkpoint the job starts from.
	Restore flinkconf.Restore
}

// Deployer builds the member objects of one Flink deployment mode.
type Deployer interface {
	// Mode is the deployment mode this deployer implements.
	Mode() v1beta1.KubernetesDeploymentMode
	// Resources returns the desired member objects for fd in creation
	// order (configuration before the Deployments that mount it).
	Resources(fd *v1beta1.FlinkDeployment, in Inputs) ([]client.Object, error)
	// TaskManagerSelector selects fd's TaskManager pods; it is what
	// status.taskManager.labelSelector reports for the scale subresource.
	TaskManagerSelector(fd *v1beta1.FlinkDeployment) string
	// TaskManagers is how many TaskManagers the spec deployed with conf
	// asks for, as upstream reports it.
	TaskManagers(fd *v1beta1.FlinkDeployment, conf flinkconf.Config) int32
	// ClusterObjects names the objects of fd's running Flink cluster in
	// this mode (its Deployments), which an upgrade replaces; DeleteCluster
	// deletes them.
	ClusterObjects(fd *v1beta1.FlinkDeployment) []client.Object
	// SupportObjects names what this mode adds besides the Deployments
	// and the objects every mode has (Services, configuration, Ingress):
	// deleted with the FlinkDeployment.
	SupportObjects(fd *v1beta1.FlinkDeployment) []client.Object
}

// JobManagerDeploymentName is the name of the JobManager Deployment.
func JobManagerDeploymentName(fd *v1beta1.FlinkDeployment) string { return fd.Name }

// RestServiceName is the name of the REST Service.
func RestServiceName(fd *v1beta1.FlinkDeployment) string { return flinknames.RestService(fd.Name) }

// ConfigMapName is the name of the Flink configuration ConfigMap.
func ConfigMapName(fd *v1beta1.FlinkDeployment) string { return "flink-config-" + fd.Name }

// ModeOf is the effective mode of fd: native unless standalone is asked for.
func ModeOf(fd *v1beta1.FlinkDeployment) v1beta1.KubernetesDeploymentMode {
	if fd.Spec.Mode == v1beta1.ModeStandalone {
		return v1beta1.ModeStandalone
	}
	return v1beta1.ModeNative
}
