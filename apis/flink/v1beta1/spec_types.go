package v1beta1

import (
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// FlinkDeploymentSpec is the desired state of a Flink cluster and, in
// application mode, its job.
type FlinkDeploymentSpec struct {
	// Job is the job to run; absent for a session cluster.
	// +optional
	Job *JobSpec `json:"job,omitempty"`

	// RestartNonce restarts the cluster when changed.
	// +optional
	RestartNonce *int64 `json:"restartNonce,omitempty"`

	// FlinkConfiguration is Flink's configuration as keys and values. Values
	// may be scalars or nested YAML; nested maps are joined into dotted keys.
	// It keeps any JSON, as upstream does.
	// +optional
	FlinkConfiguration *apiextensionsv1.JSON `json:"flinkConfiguration,omitempty"`

	// Image is the Flink container image.
	// +optional
	Image string `json:"image,omitempty"`

	// ImagePullPolicy of the Flink containers.
	// +optional
	ImagePullPolicy string `json:"imagePullPolicy,omitempty"`

	// ServiceAccount the Flink pods run as. It must be given, as upstream
	// requires; an empty name runs them as the namespace's default
	// ServiceAccount, as upstream's do.
	// +optional
	ServiceAccount *string `json:"serviceAccount,omitempty"`

	// FlinkVersion is the Flink version of Image.
	// +optional
	FlinkVersion FlinkVersion `json:"flinkVersion,omitempty"`

	// Ingress exposes the Flink REST endpoint and web UI.
	// +optional
	Ingress *IngressSpec `json:"ingress,omitempty"`

	// PodTemplate is merged into both the JobManager and TaskManager pods.
	//
	// Every podTemplate keeps any field without validating it: the upstream
	// CRD keeps every Pod field too, and a typed Pod schema would add
	// required fields (spec.containers, containers[].name) that upstream
	// does not have, rejecting templates upstream accepts. The operator
	// validates the template when it builds the pods.
	//
	// +optional
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:Type=object
	PodTemplate *corev1.Pod `json:"podTemplate,omitempty"`

	// JobManager describes the JobManager pods.
	// +optional
	JobManager *JobManagerSpec `json:"jobManager,omitempty"`

	// TaskManager describes the TaskManager pods.
	// +optional
	TaskManager *TaskManagerSpec `json:"taskManager,omitempty"`

	// LogConfiguration holds log4j/logback files by file name.
	// +optional
	LogConfiguration map[string]string `json:"logConfiguration,omitempty"`

	// Mode is how Flink talks to Kubernetes: native (Flink creates its own
	// TaskManager pods) or standalone (the operator creates them).
	// +optional
	Mode KubernetesDeploymentMode `json:"mode,omitempty"`
}

// FlinkVersion is a supported Flink major.minor version.
// +kubebuilder:validation:Enum=v1_13;v1_14;v1_15;v1_16;v1_17;v1_18;v1_19;v1_20;v2_0;v2_1;v2_2;v2_3;v2_4
type FlinkVersion string

// KubernetesDeploymentMode selects native or standalone Kubernetes integration.
// +kubebuilder:validation:Enum=native;standalone
type KubernetesDeploymentMode string

const (
	// ModeNative lets Flink's resource manager create TaskManager pods.
	ModeNative KubernetesDeploymentMode = "native"
	// ModeStandalone has the operator create a fixed TaskManager Deployment.
	ModeStandalone KubernetesDeploymentMode = "standalone"
)

// JobSpec is the job of an application cluster.
type JobSpec struct {
	// JarURI is the job jar, e.g. local:///opt/flink/usrlib/job.jar.
	// +optional
	JarURI string `json:"jarURI,omitempty"`

	// Parallelism is the job's default parallelism.
	// +optional
	Parallelism int32 `json:"parallelism,omitempty"`

	// EntryClass is the job's main class.
	// +optional
	EntryClass string `json:"entryClass,omitempty"`

	// Args are the job's program arguments.
	// +optional
	Args []string `json:"args,omitempty"`

	// State is the desired job state.
	// +optional
	State JobState `json:"state,omitempty"`

	// SavepointTriggerNonce triggers a manual savepoint when changed.
	// +optional
	SavepointTriggerNonce *int64 `json:"savepointTriggerNonce,omitempty"`

	// InitialSavepointPath is the savepoint the job first starts from.
	// +optional
	InitialSavepointPath string `json:"initialSavepointPath,omitempty"`

	// InitialStateReference names the FlinkStateSnapshot (or gives the
	// path) the job first starts from, in place of InitialSavepointPath.
	// +optional
	InitialStateReference *FlinkStateSnapshotReference `json:"initialStateReference,omitempty"`

	// CheckpointTriggerNonce triggers a manual checkpoint when changed.
	// +optional
	CheckpointTriggerNonce *int64 `json:"checkpointTriggerNonce,omitempty"`

	// UpgradeMode is how state is carried over an upgrade.
	// +optional
	UpgradeMode UpgradeMode `json:"upgradeMode,omitempty"`

	// AllowNonRestoredState lets the job start when savepoint state cannot
	// be mapped to an operator.
	// +optional
	AllowNonRestoredState *bool `json:"allowNonRestoredState,omitempty"`

	// SavepointRedeployNonce redeploys from InitialSavepointPath when changed.
	// +optional
	SavepointRedeployNonce *int64 `json:"savepointRedeployNonce,omitempty"`

	// AutoscalerResetNonce resets the autoscaler's overrides when changed.
	// +optional
	AutoscalerResetNonce *int64 `json:"autoscalerResetNonce,omitempty"`
}

// JobState is the desired state of a job.
// +kubebuilder:validation:Enum=running;suspended
type JobState string

const (
	// JobStateRunning runs the job.
	JobStateRunning JobState = "running"
	// JobStateSuspended stops the job, keeping its state per UpgradeMode.
	JobStateSuspended JobState = "suspended"
)

// UpgradeMode is how a job's state is carried over an upgrade or suspend.
// +kubebuilder:validation:Enum=savepoint;last-state;stateless
type UpgradeMode string

const (
	// UpgradeModeSavepoint stops with a savepoint and restores from it.
	UpgradeModeSavepoint UpgradeMode = "savepoint"
	// UpgradeModeLastState restores from the latest HA checkpoint metadata.
	UpgradeModeLastState UpgradeMode = "last-state"
	// UpgradeModeStateless starts from empty state.
	UpgradeModeStateless UpgradeMode = "stateless"
)

// IngressSpec describes the Ingress in front of the Flink REST endpoint.
type IngressSpec struct {
	// Template is the host and path template, e.g. "{{name}}.example.com".
	// +optional
	Template string `json:"template,omitempty"`
	// ClassName is the IngressClass.
	// +optional
	ClassName string `json:"className,omitempty"`
	// Annotations are added to the Ingress.
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`
	// Labels are added to the Ingress.
	// +optional
	Labels map[string]string `json:"labels,omitempty"`
	// TLS configures the Ingress' TLS.
	// +optional
	TLS []networkingv1.IngressTLS `json:"tls,omitempty"`
}

// Resource is the CPU, memory and ephemeral storage of one Flink pod.
type Resource struct {
	// CPU is the number of cores, fractions allowed.
	// +optional
	CPU *float64 `json:"cpu,omitempty"`
	// Memory is a Kubernetes quantity or a Flink memory size, e.g. "2048m".
	// +optional
	Memory string `json:"memory,omitempty"`
	// EphemeralStorage is a Kubernetes quantity.
	// +optional
	EphemeralStorage string `json:"ephemeralStorage,omitempty"`
}

// ResourceRequirements are Kubernetes resource limits and requests, typed as
// upstream types them: quantities are integers or strings and are parsed when
// the pods are built, so a manifest that upstream accepts is accepted here.
type ResourceRequirements struct {
	// Limits are the maximum resources, by resource name.
	// +optional
	Limits map[corev1.ResourceName]intstr.IntOrString `json:"limits,omitempty"`
	// Requests are the minimum resources, by resource name.
	// +optional
	Requests map[corev1.ResourceName]intstr.IntOrString `json:"requests,omitempty"`
	// Claims name dynamic resource claims of the pod that the container uses.
	// +optional
	Claims []ResourceClaim `json:"claims,omitempty"`
}

// ResourceClaim refers to one entry of the pod's resourceClaims.
type ResourceClaim struct {
	// Name is the name of the pod's resource claim.
	// +optional
	Name string `json:"name,omitempty"`
	// Request selects one request of the claim.
	// +optional
	Request string `json:"request,omitempty"`
}

// JobManagerSpec describes the JobManager pods.
type JobManagerSpec struct {
	// Resource is the JobManager pod's resources in Flink's terms.
	// +optional
	Resource *Resource `json:"resource,omitempty"`
	// Resources are Kubernetes resource requirements, taking precedence over
	// Resource where both set a value.
	// +optional
	Resources *ResourceRequirements `json:"resources,omitempty"`
	// Replicas is the number of JobManagers (more than one needs HA).
	// +optional
	Replicas int32 `json:"replicas,omitempty"`
	// PodTemplate is merged into the JobManager pods.
	// +optional
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:Type=object
	PodTemplate *corev1.Pod `json:"podTemplate,omitempty"`
}

// TaskManagerSpec describes the TaskManager pods.
type TaskManagerSpec struct {
	// Resource is the TaskManager pod's resources in Flink's terms.
	// +optional
	Resource *Resource `json:"resource,omitempty"`
	// Resources are Kubernetes resource requirements, taking precedence over
	// Resource where both set a value.
	// +optional
	Resources *ResourceRequirements `json:"resources,omitempty"`
	// Replicas is the number of TaskManagers; the scale subresource points
	// here.
	// +optional
	Replicas *int32 `json:"replicas,omitempty"`
	// PodTemplate is merged into the TaskManager pods.
	// +optional
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:Type=object
	PodTemplate *corev1.Pod `json:"podTemplate,omitempty"`
}
