package registration

import (
	hubv1alpha1 "github.com/flink-hub/flink-hub/apis/hub/v1alpha1"
)

// Call is one kind of request the hub makes in a member cluster.
type Call struct {
	// Group, Resource and Subresource name the API; Verb is the RBAC verb
	// the apiserver authorizes the request as.
	Group, Resource, Subresource, Verb string
	// Name limits the call to one object the hub owns.
	Name string
	// ClusterWide marks requests on cluster-scoped objects.
	ClusterWide bool
	// AllNamespaces marks the list and watch requests of the hub's member
	// cache (and its health probe's list): made across all namespaces when
	// the hub watches every namespace, in each watched namespace with
	// `cluster add --namespaces`. The calls marked neither are made in the
	// FlinkDeployment's namespace.
	AllNamespaces bool
	// Namespace, when set, is the one namespace the call is made in.
	Namespace string
	// Why says which part of the hub makes it.
	Why string
}

// MemberCalls lists, in one place, every request the hub makes in a
// member with the identity `cluster add` creates; MemberRules must allow
// each (a test proves it against a real apiserver, and the end-to-end tests
// fail on any 403 a member answers the hub). Keep it in step with the code:
// a request missing here shows as a 403 in those tests.
func MemberCalls(installCRDs bool) []Call {
	const flink = "flink.apache.org"
	calls := []Call{
		// The FlinkDeployment controller's member cache and writes.
		{Group: flink, Resource: "flinkdeployments", Verb: "list", AllNamespaces: true, Why: "cache, health probe"},
		{Group: flink, Resource: "flinkdeployments", Verb: "watch", AllNamespaces: true, Why: "cache"},
		{Group: flink, Resource: "flinkdeployments", Verb: "get", Why: "live reads"},
		{Group: flink, Resource: "flinkdeployments", Verb: "patch", Why: "finalizer"},
		{Group: flink, Resource: "flinkdeployments", Subresource: "status", Verb: "patch", Why: "status"},
		{Group: flink, Resource: "flinkdeployments", Subresource: "finalizers", Verb: "update", Why: "owner references block deletion of the FlinkDeployment's objects"},
		// The FlinkSessionJob controller's member cache and writes.
		{Group: flink, Resource: "flinksessionjobs", Verb: "list", AllNamespaces: true, Why: "cache"},
		{Group: flink, Resource: "flinksessionjobs", Verb: "watch", AllNamespaces: true, Why: "cache"},
		{Group: flink, Resource: "flinksessionjobs", Verb: "get", Why: "live reads after a handoff"},
		{Group: flink, Resource: "flinksessionjobs", Verb: "patch", Why: "finalizer"},
		{Group: flink, Resource: "flinksessionjobs", Subresource: "status", Verb: "patch", Why: "status"},
		// The FlinkStateSnapshot controller's member cache and writes.
		{Group: flink, Resource: "flinkstatesnapshots", Verb: "list", AllNamespaces: true, Why: "cache"},
		{Group: flink, Resource: "flinkstatesnapshots", Verb: "watch", AllNamespaces: true, Why: "cache"},
		{Group: flink, Resource: "flinkstatesnapshots", Verb: "get", Why: "live reads after a handoff"},
		{Group: flink, Resource: "flinkstatesnapshots", Verb: "patch", Why: "finalizer"},
		{Group: flink, Resource: "flinkstatesnapshots", Subresource: "status", Verb: "patch", Why: "status"},
		{Group: flink, Resource: "flinkstatesnapshots", Verb: "create", Why: "the hub's own savepoints recorded as snapshots"},
		{Group: flink, Resource: "flinkstatesnapshots", Verb: "delete", Why: "snapshots of savepoints the history trimming disposed of"},
	}
	for _, kind := range []struct{ group, resource string }{
		{"apps", "deployments"}, {"", "services"}, {"", "configmaps"}, {"networking.k8s.io", "ingresses"},
	} {
		calls = append(calls,
			Call{Group: kind.group, Resource: kind.resource, Verb: "list", AllNamespaces: true, Why: "cache of the hub's objects"},
			Call{Group: kind.group, Resource: kind.resource, Verb: "watch", AllNamespaces: true, Why: "cache of the hub's objects"},
			Call{Group: kind.group, Resource: kind.resource, Verb: "get", Why: "deployer: whose an object is before applying it (metadata only), a JobManager before deleting HA metadata"},
			Call{Group: kind.group, Resource: kind.resource, Verb: "create", Why: "deployer: server-side apply of a new object"},
			Call{Group: kind.group, Resource: kind.resource, Verb: "patch", Why: "deployer: server-side apply"},
			Call{Group: kind.group, Resource: kind.resource, Verb: "delete", Why: "upgrade, suspend and deletion"},
		)
	}
	calls = append(calls,
		Call{Resource: "configmaps", Verb: "deletecollection", Why: "Flink's HA ConfigMaps on upgrade and deletion"},
		Call{Resource: "configmaps", Verb: "list", Why: "HA metadata check (live)"},
		Call{Resource: "pods", Verb: "list", Why: "why a JobManager does not start (live)"},
		Call{Resource: "services", Subresource: "proxy", Verb: "get", Why: "Flink REST GET through the service proxy"},
		Call{Resource: "services", Subresource: "proxy", Verb: "create", Why: "Flink REST POST through the service proxy"},
		Call{Resource: "services", Subresource: "proxy", Verb: "patch", Why: "Flink REST PATCH (cancel) through the service proxy"},
		Call{Resource: "services", Subresource: "proxy", Verb: "delete", Why: "Flink REST DELETE (a session job's uploaded jar) through the service proxy"},
		Call{Resource: "events", Verb: "list", Why: "console: a resource's events (live); a JobManager pod's FailedMount (live)"},
		Call{Group: "events.k8s.io", Resource: "events", Verb: "create", Why: "events"},
		Call{Group: "events.k8s.io", Resource: "events", Verb: "patch", Why: "events (repeats)"},
		Call{Group: "coordination.k8s.io", Resource: "leases", Verb: "get", Name: hubv1alpha1.ClaimLeaseName, Namespace: hubv1alpha1.ClaimNamespace, Why: "the member's claim"},
		Call{Group: "coordination.k8s.io", Resource: "leases", Verb: "create", Namespace: hubv1alpha1.ClaimNamespace, Why: "the member's claim"},
		Call{Group: "coordination.k8s.io", Resource: "leases", Verb: "update", Name: hubv1alpha1.ClaimLeaseName, Namespace: hubv1alpha1.ClaimNamespace, Why: "the member's claim: renewal, takeover"},
		Call{Group: "coordination.k8s.io", Resource: "leases", Verb: "delete", Name: hubv1alpha1.ClaimLeaseName, Namespace: hubv1alpha1.ClaimNamespace, Why: "the member's claim: release when the registration is removed"},
		Call{Group: "admissionregistration.k8s.io", Resource: "validatingwebhookconfigurations", Verb: "create", ClusterWide: true, Why: "webhook registration"},
		Call{Group: "admissionregistration.k8s.io", Resource: "validatingwebhookconfigurations", Verb: "patch", Name: hubv1alpha1.WebhookConfigurationName, ClusterWide: true, Why: "webhook registration"},
		Call{Group: "admissionregistration.k8s.io", Resource: "validatingwebhookconfigurations", Verb: "delete", Name: hubv1alpha1.WebhookConfigurationName, ClusterWide: true, Why: "webhook removal"},
	)
	if installCRDs {
		calls = append(calls, Call{Group: "apiextensions.k8s.io", Resource: "customresourcedefinitions", Verb: "create", ClusterWide: true, Why: "CRD install"})
		for _, name := range CRDNames {
			calls = append(calls,
				Call{Group: "apiextensions.k8s.io", Resource: "customresourcedefinitions", Verb: "get", Name: name, ClusterWide: true, Why: "CRD install"},
				Call{Group: "apiextensions.k8s.io", Resource: "customresourcedefinitions", Verb: "patch", Name: name, ClusterWide: true, Why: "CRD install"},
			)
		}
	}
	return calls
}
