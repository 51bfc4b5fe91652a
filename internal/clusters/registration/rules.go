// Package registration registers a member cluster with the hub: it creates
// the hub's least-privilege identity in the member, issues a token for it,
// and writes the labelled kubeconfig Secret into the hub namespace. It is
// the logic behind `kubectl flinkhub cluster add`.
package registration

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	hubv1alpha1 "github.com/flink-hub/flink-hub/apis/hub/v1alpha1"
	"slices"

	rbacv1 "k8s.io/api/rbac/v1"
)

// Names of the CRDs the hub installs in members.
const (
	// FlinkDeploymentCRDName is the FlinkDeployment CRD's name.
	FlinkDeploymentCRDName = "flinkdeployments.flink.apache.org"
	// FlinkSessionJobCRDName is the FlinkSessionJob CRD's name.
	FlinkSessionJobCRDName = "flinksessionjobs.flink.apache.org"
	// FlinkStateSnapshotCRDName is the FlinkStateSnapshot CRD's name.
	FlinkStateSnapshotCRDName = "flinkstatesnapshots.flink.apache.org"
)

// CRDNames are the CRDs the hub installs in members, in install order.
var CRDNames = []string{FlinkDeploymentCRDName, FlinkSessionJobCRDName, FlinkStateSnapshotCRDName}

// applied are the verbs on the kinds the deployers server-side apply and
// delete: an apply is a patch, and an apply that creates the object is
// also authorized as create.
var applied = []string{"get", "list", "watch", "create", "patch", "delete"}

// MemberRules are exactly the permissions the hub needs in a member when
// it manages every namespace there: NamespacedRules and
// ClusterScopedRules in one ClusterRole. Secrets are deliberately absent.
// Every verb is one some call of MemberCalls makes (a test proves it).
func MemberRules(installCRDs bool) []rbacv1.PolicyRule {
	return append(NamespacedRules(), ClusterScopedRules(installCRDs)...)
}

// NamespacedRules are the hub's permissions on namespaced objects:
// FlinkDeployments, FlinkSessionJobs and FlinkStateSnapshots with their
// status (finalizers are patched in); the Deployments, Services,
// ConfigMaps and Ingresses the deployers apply; a live list of Pods (why a
// JobManager does not start); events (written, and listed for the
// console and for a JobManager pod's FailedMount); and the service proxy to reach JobManagers' REST API. With
// `cluster add --namespaces` they are granted by a Role in each listed
// namespace, otherwise cluster-wide.
func NamespacedRules() []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{
		{APIGroups: []string{"flink.apache.org"}, Resources: []string{"flinkdeployments", "flinksessionjobs"}, Verbs: []string{"get", "list", "watch", "patch"}},
		// The hub records the savepoints it takes as snapshots.
		{APIGroups: []string{"flink.apache.org"}, Resources: []string{"flinkstatesnapshots"}, Verbs: []string{"get", "list", "watch", "create", "patch", "delete"}},
		{APIGroups: []string{"flink.apache.org"}, Resources: []string{"flinkdeployments/status", "flinksessionjobs/status", "flinkstatesnapshots/status"}, Verbs: []string{"patch"}},
		// The applied objects' owner reference to their FlinkDeployment
		// blocks its deletion, which the apiserver authorizes as this.
		{APIGroups: []string{"flink.apache.org"}, Resources: []string{"flinkdeployments/finalizers"}, Verbs: []string{"update"}},
		{APIGroups: []string{"apps"}, Resources: []string{"deployments"}, Verbs: applied},
		{APIGroups: []string{""}, Resources: []string{"services"}, Verbs: applied},
		// deletecollection: Flink's HA ConfigMaps go in one request.
		{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: append(slices.Clone(applied), "deletecollection")},
		{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"list"}},
		// The Flink REST API through the proxy: GET, POST, PATCH (cancel) and
		// DELETE (a session job's uploaded jar) are these verbs.
		{APIGroups: []string{""}, Resources: []string{"services/proxy"}, Verbs: []string{"get", "create", "patch", "delete"}},
		{APIGroups: []string{"networking.k8s.io"}, Resources: []string{"ingresses"}, Verbs: applied},
		// The hub writes events.k8s.io events (package memberevents).
		{APIGroups: []string{"events.k8s.io"}, Resources: []string{"events"}, Verbs: []string{"create", "patch"}},
		// The console shows a resource's events; a JobManager pod's
		// FailedMount events say why it does not start.
		{APIGroups: []string{""}, Resources: []string{"events"}, Verbs: []string{"list"}},
	}
}

// ClusterScopedRules are the hub's permissions on cluster-scoped objects,
// always granted by a ClusterRole: the hub's
// ValidatingWebhookConfiguration and, when CRD installs are on, the
// Flink CRDs, all limited by name except for create (which RBAC
// cannot limit by name).
func ClusterScopedRules(installCRDs bool) []rbacv1.PolicyRule {
	rules := []rbacv1.PolicyRule{
		{APIGroups: []string{"admissionregistration.k8s.io"}, Resources: []string{"validatingwebhookconfigurations"}, Verbs: []string{"create"}},
		{APIGroups: []string{"admissionregistration.k8s.io"}, Resources: []string{"validatingwebhookconfigurations"}, ResourceNames: []string{hubv1alpha1.WebhookConfigurationName}, Verbs: []string{"patch", "delete"}},
	}
	if installCRDs {
		rules = append(rules,
			rbacv1.PolicyRule{APIGroups: []string{"apiextensions.k8s.io"}, Resources: []string{"customresourcedefinitions"}, Verbs: []string{"create"}},
			rbacv1.PolicyRule{APIGroups: []string{"apiextensions.k8s.io"}, Resources: []string{"customresourcedefinitions"}, ResourceNames: CRDNames, Verbs: []string{"get", "patch"}},
		)
	}
	return rules
}

// ClaimRules are the hub's permissions in the member's hubv1alpha1.ClaimNamespace,
// granted by a Role there: the claim Lease that makes one registration
// manage the member (package claim), limited by name except for create.
func ClaimRules() []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{
		{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, Verbs: []string{"create"}},
		{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, ResourceNames: []string{hubv1alpha1.ClaimLeaseName}, Verbs: []string{"get", "update", "delete"}},
	}
}

// RulesRevisionAnnotation on the hub's member Secret (and on the member
// ClusterRole) records the revision of the member rules `cluster add`
// granted; the hub compares it with its own RulesRevision.
const RulesRevisionAnnotation = hubv1alpha1.RulesRevisionAnnotation

// RulesRevision identifies the member rules of this build: a digest of
// MemberRules in every mode and ClaimRules, so that any change to them is a new revision
// without anyone remembering to bump a number.
func RulesRevision() string {
	h := sha256.New()
	for _, installCRDs := range []bool{true, false} {
		b, err := json.Marshal(MemberRules(installCRDs))
		if err != nil {
			panic(err) // plain structs always marshal
		}
		h.Write(b)
	}
	b, err := json.Marshal(ClaimRules())
	if err != nil {
		panic(err)
	}
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// Allows evaluates RBAC rules the way the apiserver's authorizer does for a
// resource request: verb on group/resource, named name ("" for a
// collection). Wildcards are not expanded: the hub's rules use none.
func Allows(rules []rbacv1.PolicyRule, group, resource, verb, name string) bool {
	for _, r := range rules {
		if slices.Contains(r.APIGroups, group) && slices.Contains(r.Resources, resource) && slices.Contains(r.Verbs, verb) &&
			(len(r.ResourceNames) == 0 || slices.Contains(r.ResourceNames, name)) {
			return true
		}
	}
	return false
}
