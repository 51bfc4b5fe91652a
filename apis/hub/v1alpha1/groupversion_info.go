// Package v1alpha1 holds the hub's own API types (group hub.flink-hub.io):
// MemberCluster, the hub's report on one registered member cluster.
//
// +kubebuilder:object:generate=true
// +groupName=hub.flink-hub.io
package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	// GroupVersion is the group and version of the hub API.
	GroupVersion = schema.GroupVersion{Group: "hub.flink-hub.io", Version: "v1alpha1"}

	// SchemeBuilder registers the hub types with a runtime scheme.
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)

	// AddToScheme adds the hub types to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

// addKnownTypes registers the hub types and the meta types of their
// group version.
func addKnownTypes(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion, &MemberCluster{}, &MemberClusterList{})
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}
