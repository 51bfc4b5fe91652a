package clusters_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	hubv1alpha1 "github.com/flink-hub/flink-hub/apis/hub/v1alpha1"
	"github.com/flink-hub/flink-hub/e2e/framework"
)

// TestHubRunsWithItsGeneratedRole runs the hub as a ServiceAccount bound
// only to deploy/rbac/role.yaml: registration, status, events and removal
// must all work with it.
func TestHubRunsWithItsGeneratedRole(t *testing.T) {
	ctx := context.Background()
	const ns = "rbac"
	hc := fleet.Hub.Client
	if err := fleet.Hub.CreateNamespace(ctx, ns); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(framework.RepoRoot(), "deploy", "rbac", "role.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var role rbacv1.Role
	if err := yaml.UnmarshalStrict(bytes.TrimPrefix(raw, []byte("---\n")), &role); err != nil {
		t.Fatal(err)
	}
	role.Namespace = ns
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "flink-hub", Namespace: ns}}
	binding := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "flink-hub", Namespace: ns},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role.Name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: sa.Name, Namespace: ns}},
	}
	if err := hc.Create(ctx, &role); err != nil {
		t.Fatal(err)
	}
	if err := hc.Create(ctx, sa); err != nil {
		t.Fatal(err)
	}
	if err := hc.Create(ctx, binding); err != nil {
		t.Fatal(err)
	}
	tr, err := kubernetes.NewForConfigOrDie(fleet.Hub.Config).CoreV1().ServiceAccounts(ns).
		CreateToken(ctx, sa.Name, &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	asHub := &rest.Config{Host: fleet.Hub.Config.Host, BearerToken: tr.Status.Token,
		TLSClientConfig: rest.TLSClientConfig{CAData: fleet.Hub.Config.CAData}}
	startHubAs(t, asHub, testOptions(ns))

	if err := hc.Create(ctx, memberSecret(ns, "member-2", fleet.Members[1].Kubeconfig)); err != nil {
		t.Fatal(err)
	}
	waitReady(t, ns, "member-2", metav1.ConditionTrue, hubv1alpha1.ReasonReachable)
	waitEvent(t, ns, "member-2", corev1.EventTypeNormal, hubv1alpha1.ReasonReachable)
	if err := hc.Delete(ctx, memberSecret(ns, "member-2", nil)); err != nil {
		t.Fatal(err)
	}
	waitGone(t, ns, "member-2")
}
