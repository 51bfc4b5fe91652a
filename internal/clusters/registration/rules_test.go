package registration

import (
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/flink-hub/flink-hub/internal/clusters/memberconfig"
)

func TestMemberRules(t *testing.T) {
	cases := []struct {
		group, resource, verb, name string
		installCRDs                 bool
		want                        bool
	}{
		{"flink.apache.org", "flinkdeployments", "watch", "", false, true},
		{"flink.apache.org", "flinkdeployments", "patch", "", false, true},
		{"flink.apache.org", "flinkdeployments", "create", "", false, false},
		{"flink.apache.org", "flinkdeployments", "update", "", false, false},
		{"flink.apache.org", "flinkdeployments/status", "patch", "", false, true},
		{"flink.apache.org", "flinkdeployments/finalizers", "update", "", false, true},
		{"apps", "deployments", "create", "", false, true},
		{"", "services", "delete", "", false, true},
		{"", "configmaps", "patch", "", false, true},
		{"", "configmaps", "update", "", false, false},
		{"", "pods", "list", "", false, true},
		{"", "pods", "create", "", false, false},
		{"", "pods", "delete", "", false, false},
		{"", "pods", "deletecollection", "", false, false},
		{"", "services/proxy", "delete", "", false, true},
		{"", "services/proxy", "get", "", false, true},
		{"", "services/proxy", "create", "", false, true},
		{"networking.k8s.io", "ingresses", "patch", "", false, true},
		{"", "events", "list", "", false, true},
		{"", "events", "create", "", false, false},
		{"events.k8s.io", "events", "create", "", false, true},
		{"events.k8s.io", "events", "update", "", false, false},
		{"", "secrets", "get", "", true, false},
		{"", "secrets", "list", "", true, false},
		{"", "serviceaccounts/token", "create", "", true, false},
		{"rbac.authorization.k8s.io", "clusterroles", "create", "", true, false},
		{"apiextensions.k8s.io", "customresourcedefinitions", "create", "", false, false},
		{"apiextensions.k8s.io", "customresourcedefinitions", "create", "", true, true},
		{"apiextensions.k8s.io", "customresourcedefinitions", "patch", FlinkDeploymentCRDName, true, true},
		{"apiextensions.k8s.io", "customresourcedefinitions", "patch", "other.example.com", true, false},
		{"apiextensions.k8s.io", "customresourcedefinitions", "delete", FlinkDeploymentCRDName, true, false},
		{"admissionregistration.k8s.io", "validatingwebhookconfigurations", "create", "", false, true},
		{"admissionregistration.k8s.io", "validatingwebhookconfigurations", "patch", "flink-hub", false, true},
		{"admissionregistration.k8s.io", "validatingwebhookconfigurations", "delete", "flink-hub", false, true},
		{"admissionregistration.k8s.io", "validatingwebhookconfigurations", "patch", "someone-elses", false, false},
		{"admissionregistration.k8s.io", "mutatingwebhookconfigurations", "create", "", false, false},
	}
	for _, tc := range cases {
		got := Allows(MemberRules(tc.installCRDs), tc.group, tc.resource, tc.verb, tc.name)
		if got != tc.want {
			t.Errorf("installCRDs=%v %s %s/%s %q: allowed=%v, want %v", tc.installCRDs, tc.verb, tc.group, tc.resource, tc.name, got, tc.want)
		}
	}
}

// TestEveryGrantedRightIsUsed: each verb a rule grants, on each resource
// (and each name of a rule limited by name), is made by some call of
// MemberCalls, so the hub's member identity holds nothing it does not use.
// The reverse, that the rules allow every call, is TestRulesByScope and
// the envtest TestHubIdentityMayMakeEveryMemberCall.
func TestEveryGrantedRightIsUsed(t *testing.T) {
	for _, tc := range []struct {
		what  string
		rules []rbacv1.PolicyRule
	}{
		{"MemberRules(true)", MemberRules(true)},
		{"MemberRules(false)", MemberRules(false)},
		{"ClaimRules", ClaimRules()},
	} {
		for _, r := range tc.rules {
			names := r.ResourceNames
			if len(names) == 0 {
				names = []string{""}
			}
			for _, group := range r.APIGroups {
				for _, resource := range r.Resources {
					for _, verb := range r.Verbs {
						for _, name := range names {
							if !used(group, resource, verb, name) {
								t.Errorf("%s grant %s on %s/%s %q, which no call of MemberCalls makes", tc.what, verb, group, resource, name)
							}
						}
					}
				}
			}
		}
	}
}

// used reports whether MemberCalls hold a call of verb on group/resource
// ("resource/subresource") named name ("" for a call on no one name).
func used(group, resource, verb, name string) bool {
	for _, c := range MemberCalls(true) {
		res := c.Resource
		if c.Subresource != "" {
			res += "/" + c.Subresource
		}
		if c.Group == group && res == resource && c.Verb == verb && c.Name == name {
			return true
		}
	}
	return false
}

func TestKubeconfigRoundTrip(t *testing.T) {
	data, err := Kubeconfig("m1", "https://10.1.2.3:6443", []byte("ca-bytes"), "tok")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := memberconfig.FromSecret(Secret(Options{Name: "m1"}, data))
	if err != nil {
		t.Fatalf("the Secret's kubeconfig does not parse: %v", err)
	}
	if cfg.Host != "https://10.1.2.3:6443" || cfg.BearerToken != "tok" || string(cfg.CAData) != "ca-bytes" {
		t.Fatalf("kubeconfig lost data: host %q CA %q", cfg.Host, cfg.CAData)
	}
	s := Secret(Options{Name: "m1"}, data)
	if s.Namespace != "flink-hub" || s.Labels["flink-hub.io/member-cluster"] != "true" {
		t.Fatalf("secret metadata: %+v", s.ObjectMeta)
	}
	objs := MemberObjects(Options{Name: "m1"})
	if len(objs) != 6 {
		t.Fatalf("MemberObjects returned %d objects, want 6 (namespace, ServiceAccount, ClusterRole and binding, claim Role and binding)", len(objs))
	}
}
