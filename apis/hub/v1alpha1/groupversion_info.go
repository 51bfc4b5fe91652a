// Package v1alpha1 holds the hub's own API types (group hub.flink-hub.io):
// MemberCluster, the hub's report on one registered member cluster.
//
// +kubebuilder:object:generate=true
// +groupName=hub.flink-hub.io
package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is the group and version of the hub API.
	GroupVersion = schema.GroupVersion{Group: "hub.flink-hub.io", Version: "v1alpha1"}

	// SchemeBuilder registers the hub types with a runtime scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}

	// AddToScheme adds the hub types to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)
