package memberconfig

import (
	corev1 "k8s.io/api/core/v1"

	hubv1alpha1 "github.com/flink-hub/flink-hub/apis/hub/v1alpha1"
)

// NamespacesAnnotation on a member Secret lists the only member namespaces
// the hub watches and manages there (hubv1alpha1.NamespacesAnnotation).
const NamespacesAnnotation = hubv1alpha1.NamespacesAnnotation

// RefusedNamespace is the member namespace the hub never manages.
const RefusedNamespace = hubv1alpha1.RefusedNamespace

// ParseNamespaces is hubv1alpha1.ParseNamespaces; its errors are
// InvalidErrors.
func ParseNamespaces(list string) ([]string, error) {
	ns, err := hubv1alpha1.ParseNamespaces(list)
	if err != nil {
		return nil, invalid("%v", err)
	}
	return ns, nil
}

// Namespaces returns the member namespaces a registration Secret limits
// the hub to (its NamespacesAnnotation), nil for every namespace.
func Namespaces(s *corev1.Secret) ([]string, error) {
	return ParseNamespaces(s.Annotations[NamespacesAnnotation])
}
