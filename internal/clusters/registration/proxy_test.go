package registration

import (
	"net/http/httptest"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apiserver/pkg/endpoints/request"
)

// TestFlinkRESTThroughProxyIsAllowed: every HTTP method the hub's Flink
// REST client sends through a member's service proxy is authorized (as
// the apiserver derives the RBAC verb from the request) by the rules in
// both modes, and is listed in MemberCalls, which the envtest checks ask
// the member about.
func TestFlinkRESTThroughProxyIsAllowed(t *testing.T) {
	f := &request.RequestInfoFactory{APIPrefixes: sets.NewString("api", "apis"), GrouplessAPIPrefixes: sets.NewString("api")}
	cases := []struct{ method, path, why string }{
		{"GET", "/jobs/overview", "observe"},
		{"POST", "/jars/upload", "session job: upload"},
		{"PATCH", "/jobs/0123/?mode=cancel", "cancel"},
		{"DELETE", "/jars/abc_job.jar", "session job: delete the uploaded jar"},
	}
	for _, tc := range cases {
		req := httptest.NewRequest(tc.method, "/api/v1/namespaces/t/services/fd-rest:rest/proxy"+tc.path, nil)
		info, err := f.NewRequestInfo(req)
		if err != nil {
			t.Fatal(err)
		}
		if info.Resource != "services" || info.Subresource != "proxy" {
			t.Fatalf("%s %s: authorized as %s/%s", tc.method, tc.path, info.Resource, info.Subresource)
		}
		for mode, rules := range map[string][]rbacv1.PolicyRule{"cluster-wide": MemberRules(false), "namespaced": NamespacedRules()} {
			if !Allows(rules, "", "services/proxy", info.Verb, info.Name) {
				t.Errorf("%s rules refuse %s %s (%s): verb %q on services/proxy", mode, tc.method, tc.path, tc.why, info.Verb)
			}
		}
		if !listed(Call{Resource: "services", Subresource: "proxy", Verb: info.Verb}) {
			t.Errorf("MemberCalls lack %s on services/proxy (%s %s, %s)", info.Verb, tc.method, tc.path, tc.why)
		}
	}
}

// listed reports whether MemberCalls hold a call of want's group,
// resource, subresource and verb.
func listed(want Call) bool {
	for _, c := range MemberCalls(true) {
		if c.Group == want.Group && c.Resource == want.Resource && c.Subresource == want.Subresource && c.Verb == want.Verb {
			return true
		}
	}
	return false
}
