package framework

import (
	"strings"
	"testing"
)

func TestRefusalsCountsOnlyTheAuthorizersRefusals(t *testing.T) {
	const hub = "system:serviceaccount:flink-hub:flink-hub"
	log := strings.Join([]string{
		// refused by RBAC: counted
		`{"stage":"ResponseComplete","requestURI":"/api/v1/namespaces/a/configmaps","verb":"deletecollection","user":{"username":"` + hub + `"},"objectRef":{"resource":"configmaps","namespace":"a"},"responseStatus":{"code":403},"annotations":{"authorization.k8s.io/decision":"forbid"}}`,
		// allowed, refused by quota admission: not counted
		`{"stage":"ResponseComplete","requestURI":"/api/v1/namespaces/a/configmaps/x","verb":"patch","user":{"username":"` + hub + `"},"objectRef":{"resource":"configmaps","namespace":"a","name":"x"},"responseStatus":{"code":403},"annotations":{"authorization.k8s.io/decision":"allow"}}`,
		// allowed and answered: not counted
		`{"stage":"ResponseComplete","requestURI":"/apis/apps/v1/deployments","verb":"list","user":{"username":"` + hub + `"},"objectRef":{"resource":"deployments"},"responseStatus":{"code":200},"annotations":{"authorization.k8s.io/decision":"allow"}}`,
		// another identity's refusal: not counted for the hub
		`{"stage":"ResponseComplete","requestURI":"/api/v1/secrets","verb":"list","user":{"username":"system:serviceaccount:x:y"},"objectRef":{"resource":"secrets"},"responseStatus":{"code":403},"annotations":{"authorization.k8s.io/decision":"forbid"}}`,
	}, "\n")
	got, err := refusals(strings.NewReader(log), hub)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Verb != "deletecollection" || got[0].Resource != "configmaps" || got[0].Namespace != "a" {
		t.Fatalf("refusals = %+v, want the one deletecollection", got)
	}
	all, err := refusals(strings.NewReader(log), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 {
		t.Fatalf("refusals of every identity = %+v, want 2", all)
	}
}
