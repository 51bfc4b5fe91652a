package v1beta1

import (
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// FlinkSessionJob is a job submitted to a session cluster: a
// FlinkDeployment without a job, in the same namespace and member.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:shortName=sessionjob
// +kubebuilder:metadata:annotations="flink-hub.io/installed-by=flink-hub"
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="Job Status",type=string,JSONPath=`.status.jobStatus.state`
// +kubebuilder:printcolumn:name="Lifecycle State",type=string,JSONPath=`.status.lifecycleState`
type FlinkSessionJob struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired job.
	Spec FlinkSessionJobSpec `json:"spec,omitempty"`
	// Status is the observed state, written by the operator.
	Status FlinkSessionJobStatus `json:"status,omitempty"`
}

// FlinkSessionJobSpec is the desired state of a job on a session cluster.
type FlinkSessionJobSpec struct {
	// DeploymentName names the session cluster (a FlinkDeployment without
	// a job) in the job's namespace.
	// +optional
	DeploymentName string `json:"deploymentName,omitempty"`

	// Job is the job to run.
	// +optional
	Job *JobSpec `json:"job,omitempty"`

	// RestartNonce restarts the job when changed.
	// +optional
	RestartNonce *int64 `json:"restartNonce,omitempty"`

	// FlinkConfiguration is the job's Flink configuration, as in a
	// FlinkDeployment: keys and values, nested maps joined into dotted
	// keys. It keeps any JSON, as upstream does.
	// +optional
	FlinkConfiguration *apiextensionsv1.JSON `json:"flinkConfiguration,omitempty"`
}

// FlinkSessionJobStatus is the observed state of a session job, in the
// Apache operator's format.
type FlinkSessionJobStatus struct {
	// JobStatus is the last observed job state.
	// +optional
	JobStatus JobStatus `json:"jobStatus,omitempty"`

	// Error is the last reconcile error, for the user.
	// +optional
	Error string `json:"error,omitempty"`

	// ObservedGeneration is the generation last reconciled.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// LifecycleState summarizes where the resource is in its lifecycle.
	// +optional
	LifecycleState ResourceLifecycleState `json:"lifecycleState,omitempty"`

	// ReconciliationStatus records the last reconciled and last stable spec.
	// +optional
	ReconciliationStatus ReconciliationStatus `json:"reconciliationStatus,omitempty"`

	// Conditions are the resource's conditions.
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// FlinkSessionJobList is a list of FlinkSessionJobs.
//
// +kubebuilder:object:root=true
type FlinkSessionJobList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []FlinkSessionJob `json:"items"`
}
