// Package v1beta1 holds the flink.apache.org/v1beta1 API types, wire-compatible
// with the Apache Flink Kubernetes Operator: every field keeps the upstream
// JSON name, type, enum values and (absent) defaults, so existing manifests
// apply unchanged.
//
// +kubebuilder:object:generate=true
// +groupName=flink.apache.org
package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	// GroupVersion is the group and version of the Flink API.
	GroupVersion = schema.GroupVersion{Group: "flink.apache.org", Version: "v1beta1"}

	// SchemeBuilder registers the Flink types with a runtime scheme.
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)

	// AddToScheme adds the Flink types to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

// addKnownTypes registers the Flink types and the meta types of their
// group version.
func addKnownTypes(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion, &FlinkDeployment{}, &FlinkDeploymentList{}, &FlinkSessionJob{}, &FlinkSessionJobList{}, &FlinkStateSnapshot{}, &FlinkStateSnapshotList{})
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}
