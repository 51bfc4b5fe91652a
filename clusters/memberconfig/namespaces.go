package memberconfig

import (
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// NamespacesAnnotation on a member Secret lists, comma-separated, the only
// member namespaces the hub watches and manages there (`cluster add
// --namespaces`); without it the hub watches every namespace.
const NamespacesAnnotation = "flink-hub.io/namespaces"

// RefusedNamespace is the member namespace the hub never manages.
const RefusedNamespace = "kube-system"

// ParseNamespaces parses a comma-separated namespace list: blanks around
// names are trimmed, duplicates dropped, the result sorted. An empty list
// means every namespace (nil). Every name must be a valid namespace name
// and not RefusedNamespace; errors are InvalidErrors.
func ParseNamespaces(list string) ([]string, error) {
	var out []string
	for _, ns := range strings.Split(list, ",") {
		ns = strings.TrimSpace(ns)
		if ns == "" {
			continue
		}
		if errs := validation.IsDNS1123Label(ns); len(errs) > 0 {
			return nil, invalid("namespace %q: %s", ns, strings.Join(errs, ", "))
		}
		if ns == RefusedNamespace {
			return nil, invalid("namespace %q: the hub never manages FlinkDeployments there", ns)
		}
		out = append(out, ns)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// Namespaces returns the member namespaces a registration Secret limits
// the hub to (its NamespacesAnnotation), nil for every namespace.
func Namespaces(s *corev1.Secret) ([]string, error) {
	return ParseNamespaces(s.Annotations[NamespacesAnnotation])
}
