package registration

import (
	"fmt"
	hubv1alpha1 "github.com/flink-hub/flink-hub/apis/hub/v1alpha1"
	"slices"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
)

// TestRulesByScope: with --namespaces the ClusterRole holds only
// cluster-scoped rights, the Roles only namespaced ones, and together they
// allow every call the hub makes.
func TestRulesByScope(t *testing.T) {
	cases := []struct {
		group, resource, verb, name string
		installCRDs                 bool
		namespaced, clusterScoped   bool
	}{
		{"flink.apache.org", "flinkdeployments", "watch", "", true, true, false},
		{"flink.apache.org", "flinkdeployments", "list", "", true, true, false},
		{"flink.apache.org", "flinkdeployments/status", "patch", "", true, true, false},
		{"apps", "deployments", "create", "", true, true, false},
		{"", "configmaps", "deletecollection", "", true, true, false},
		{"", "services/proxy", "create", "", true, true, false},
		{"events.k8s.io", "events", "create", "", true, true, false},
		{"", "secrets", "get", "", true, false, false},
		{"rbac.authorization.k8s.io", "roles", "create", "", true, false, false},
		{"admissionregistration.k8s.io", "validatingwebhookconfigurations", "create", "", false, false, true},
		{"admissionregistration.k8s.io", "validatingwebhookconfigurations", "patch", "flink-hub", false, false, true},
		{"admissionregistration.k8s.io", "validatingwebhookconfigurations", "patch", "someone-elses", false, false, false},
		{"admissionregistration.k8s.io", "validatingwebhookconfigurations", "list", "", false, false, false},
		{"apiextensions.k8s.io", "customresourcedefinitions", "create", "", false, false, false},
		{"apiextensions.k8s.io", "customresourcedefinitions", "create", "", true, false, true},
		{"apiextensions.k8s.io", "customresourcedefinitions", "patch", FlinkDeploymentCRDName, true, false, true},
		{"apiextensions.k8s.io", "customresourcedefinitions", "list", "", true, false, false},
	}
	for _, tc := range cases {
		if got := Allows(NamespacedRules(), tc.group, tc.resource, tc.verb, tc.name); got != tc.namespaced {
			t.Errorf("NamespacedRules: %s %s/%s %q allowed=%v, want %v", tc.verb, tc.group, tc.resource, tc.name, got, tc.namespaced)
		}
		if got := Allows(ClusterScopedRules(tc.installCRDs), tc.group, tc.resource, tc.verb, tc.name); got != tc.clusterScoped {
			t.Errorf("ClusterScopedRules(installCRDs=%v): %s %s/%s %q allowed=%v, want %v", tc.installCRDs, tc.verb, tc.group, tc.resource, tc.name, got, tc.clusterScoped)
		}
	}
	for _, call := range MemberCalls(true) {
		resource := call.Resource
		if call.Subresource != "" {
			resource += "/" + call.Subresource
		}
		rules := NamespacedRules()
		switch {
		case call.ClusterWide:
			rules = ClusterScopedRules(true)
		case call.Namespace != "":
			rules = ClaimRules()
		}
		if !Allows(rules, call.Group, resource, call.Verb, call.Name) {
			t.Errorf("namespaced mode does not allow %s %s/%s %q (%s)", call.Verb, call.Group, resource, call.Name, call.Why)
		}
	}
}

// TestMemberObjectsWithNamespaces: a Role and RoleBinding of the
// namespaced rules in each listed namespace, a ClusterRole of only the
// cluster-scoped ones, and the namespaces on the hub Secret.
func TestMemberObjectsWithNamespaces(t *testing.T) {
	cases := []struct {
		namespaces []string
		want       []string // kind namespace/name of the RBAC objects
		annotation string
	}{
		{nil, []string{"ClusterRole /flink-hub:flink-hub:flink-hub", "ClusterRoleBinding /flink-hub:flink-hub:flink-hub",
			"Role kube-public/flink-hub:flink-hub:flink-hub", "RoleBinding kube-public/flink-hub:flink-hub:flink-hub",
		}, ""},
		{[]string{"b", "a", "a"}, []string{
			"ClusterRole /flink-hub:flink-hub:flink-hub", "ClusterRoleBinding /flink-hub:flink-hub:flink-hub",
			"Role a/flink-hub:flink-hub:flink-hub", "RoleBinding a/flink-hub:flink-hub:flink-hub",
			"Role b/flink-hub:flink-hub:flink-hub", "RoleBinding b/flink-hub:flink-hub:flink-hub",
			"Role kube-public/flink-hub:flink-hub:flink-hub", "RoleBinding kube-public/flink-hub:flink-hub:flink-hub",
		}, "a,b"},
		{[]string{"kube-public"}, []string{
			"ClusterRole /flink-hub:flink-hub:flink-hub", "ClusterRoleBinding /flink-hub:flink-hub:flink-hub",
			"Role kube-public/flink-hub:flink-hub:flink-hub", "RoleBinding kube-public/flink-hub:flink-hub:flink-hub",
		}, "kube-public"},
	}
	for _, tc := range cases {
		o := Options{Name: "m1", InstallCRDs: true, Namespaces: tc.namespaces}
		var got []string
		for _, obj := range MemberObjects(o)[2:] {
			got = append(got, fmt.Sprintf("%s %s/%s", obj.GetObjectKind().GroupVersionKind().Kind, obj.GetNamespace(), obj.GetName()))
			switch obj := obj.(type) {
			case *rbacv1.ClusterRole:
				want := MemberRules(true)
				if len(tc.namespaces) > 0 {
					want = ClusterScopedRules(true)
				}
				if !slices.EqualFunc(obj.Rules, want, ruleEqual) {
					t.Errorf("namespaces %q: ClusterRole rules %+v, want %+v", tc.namespaces, obj.Rules, want)
				}
			case *rbacv1.Role:
				want := NamespacedRules()
				switch {
				case obj.Namespace == hubv1alpha1.ClaimNamespace && slices.Contains(tc.namespaces, hubv1alpha1.ClaimNamespace):
					want = append(want, ClaimRules()...)
				case obj.Namespace == hubv1alpha1.ClaimNamespace:
					want = ClaimRules()
				}
				if !slices.EqualFunc(obj.Rules, want, ruleEqual) {
					t.Errorf("namespaces %q: Role %s rules %+v", tc.namespaces, obj.Namespace, obj.Rules)
				}
			case *rbacv1.RoleBinding:
				if obj.RoleRef.Kind != "Role" || obj.Subjects[0].Name != "flink-hub" || obj.Subjects[0].Namespace != "flink-hub" {
					t.Errorf("namespaces %q: RoleBinding %s: %+v %+v", tc.namespaces, obj.Namespace, obj.RoleRef, obj.Subjects)
				}
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("namespaces %q: objects %q, want %q", tc.namespaces, got, tc.want)
		}
		if a := Secret(o, nil).Annotations[hubv1alpha1.NamespacesAnnotation]; a != tc.annotation {
			t.Errorf("namespaces %q: Secret annotation %q, want %q", tc.namespaces, a, tc.annotation)
		}
	}
}

func TestOptionsValidate(t *testing.T) {
	for _, tc := range []struct {
		o  Options
		ok bool
	}{
		{Options{Name: "m1"}, true},
		{Options{Name: "m1", Namespaces: []string{"a", "b"}}, true},
		{Options{}, false},
		{Options{Name: "m1", Namespaces: []string{"kube-system"}}, false},
		{Options{Name: "m1", Namespaces: []string{"Not_A_Name"}}, false},
	} {
		if err := tc.o.Validate(); (err == nil) != tc.ok {
			t.Errorf("%+v: Validate() = %v, want ok=%v", tc.o, err, tc.ok)
		}
	}
}

func ruleEqual(a, b rbacv1.PolicyRule) bool {
	return slices.Equal(a.APIGroups, b.APIGroups) && slices.Equal(a.Resources, b.Resources) &&
		slices.Equal(a.Verbs, b.Verbs) && slices.Equal(a.ResourceNames, b.ResourceNames)
}
