package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// FlinkDeployment is a Flink cluster, in application mode when spec.job is
// set and in session mode otherwise.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:shortName=flinkdep
// +kubebuilder:metadata:annotations="flink-hub.io/installed-by=flink-hub"
// +kubebuilder:subresource:status
// +kubebuilder:subresource:scale:specpath=.spec.taskManager.replicas,statuspath=.status.taskManager.replicas,selectorpath=.status.taskManager.labelSelector
// +kubebuilder:printcolumn:name="Job Status",type=string,JSONPath=`.status.jobStatus.state`
// +kubebuilder:printcolumn:name="Lifecycle State",type=string,JSONPath=`.status.lifecycleState`
type FlinkDeployment struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired Flink cluster and job.
	Spec FlinkDeploymentSpec `json:"spec,omitempty"`
	// Status is the observed state, written by the operator.
	Status FlinkDeploymentStatus `json:"status,omitempty"`
}

// FlinkDeploymentList is a list of FlinkDeployments.
//
// +kubebuilder:object:root=true
type FlinkDeploymentList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []FlinkDeployment `json:"items"`
}
