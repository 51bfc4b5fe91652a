package v1alpha1

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// The registration contract: names that `kubectl flinkhub cluster add`
// writes, the hub reads, and both use in members.
const (
	// MemberSecretLabel marks a hub Secret as a member registration; its
	// value must be "true".
	MemberSecretLabel = "flink-hub.io/member-cluster"
	// MemberSecretKey is the registration Secret's data key holding the
	// member's kubeconfig.
	MemberSecretKey = "kubeconfig"
	// NamespacesAnnotation on a registration Secret lists, comma-separated,
	// the only member namespaces the hub watches and manages there
	// (`cluster add --namespaces`); without it the hub watches every
	// namespace.
	NamespacesAnnotation = "flink-hub.io/namespaces"
	// RulesRevisionAnnotation on a registration Secret records the revision
	// of the rules `cluster add` granted the hub in the member.
	RulesRevisionAnnotation = "flink-hub.io/rules-revision"
	// AdoptBeforeAnnotation on a registration Secret (RFC 3339, written by
	// `kubectl flinkhub adopt`) hands the hub the member's FlinkDeployments
	// whose status another operator (the Apache operator) wrote before that
	// time: the hub takes them over in place instead of leaving them alone.
	AdoptBeforeAnnotation = "flink-hub.io/adopt-before"
	// RefusedNamespace is the member namespace the hub never manages.
	RefusedNamespace = "kube-system"
	// ClaimNamespace holds the member's claim (a Lease) in every member.
	ClaimNamespace = "kube-public"
	// ClaimLeaseName is the member claim's name.
	ClaimLeaseName = "flink-hub-claim"
	// ClaimRegistrationAnnotation on the claim names the holding
	// registration: <hub namespace>/<Secret name>.
	ClaimRegistrationAnnotation = "flink-hub.io/registration"
	// WebhookConfigurationName is the ValidatingWebhookConfiguration the
	// hub owns in members.
	WebhookConfigurationName = "flink-hub"
)

// ParseNamespaces parses a comma-separated member namespace list (the
// value of NamespacesAnnotation): blanks around names are trimmed,
// duplicates dropped, the result sorted. An empty list means every
// namespace (nil). Every name must be a valid namespace name and not
// RefusedNamespace.
func ParseNamespaces(list string) ([]string, error) {
	var out []string
	for _, ns := range strings.Split(list, ",") {
		ns = strings.TrimSpace(ns)
		if ns == "" {
			continue
		}
		if errs := validation.IsDNS1123Label(ns); len(errs) > 0 {
			return nil, fmt.Errorf("namespace %q: %s", ns, strings.Join(errs, ", "))
		}
		if ns == RefusedNamespace {
			return nil, fmt.Errorf("namespace %q: the hub never manages FlinkDeployments there", ns)
		}
		out = append(out, ns)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}
