package observability

import "testing"

func TestKubeResource(t *testing.T) {
	cases := map[string]string{
		"/api/v1/namespaces":                                                         "namespaces",
		"/api/v1/namespaces/team-a":                                                  "namespaces",
		"/api/v1/namespaces/team-a/status":                                           "namespaces/status",
		"/api/v1/namespaces/team-a/pods":                                             "pods",
		"/api/v1/namespaces/team-a/pods/jm-0":                                        "pods",
		"/api/v1/namespaces/team-a/pods/jm-0/log":                                    "pods/log",
		"/api/v1/namespaces/team-a/services/basic-rest:rest/proxy/jobs/overview":     "services/proxy",
		"/apis/flink.apache.org/v1beta1/namespaces/team-a/flinkdeployments/basic":    "flinkdeployments",
		"/apis/flink.apache.org/v1beta1/namespaces/team-a/flinkdeployments/b/status": "flinkdeployments/status",
		"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/x.flink.apache.org": "customresourcedefinitions",
		"/apis/apps/v1/deployments":                                                  "deployments",
		"/api/v1/nodes":                                                              "nodes",
		"/api/v1":                                                                    "discovery",
		"/apis/apps/v1":                                                              "discovery",
		"/version":                                                                   "/version",
	}
	for path, want := range cases {
		if got := KubeResource(path); got != want {
			t.Errorf("KubeResource(%q) = %q, want %q", path, got, want)
		}
	}
}
