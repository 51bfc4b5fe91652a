package clusters_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	hubv1alpha1 "github.com/flink-hub/flink-hub/apis/hub/v1alpha1"
	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/clusters/fleetapi"
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
	asHub := hubRoleIdentities(t, ns, "flink-hub")[0]
	hub := startHubAs(t, asHub, testOptions(ns))

	if err := hc.Create(ctx, memberSecret(ns, "member-2", hubKubeconfig(t, fleet.Members[1]))); err != nil {
		t.Fatal(err)
	}
	waitReady(t, ns, "member-2", metav1.ConditionTrue, hubv1alpha1.ReasonReachable)
	waitEvent(t, ns, "member-2", corev1.EventTypeNormal, hubv1alpha1.ReasonReachable)
	checkOwnedWithoutBlocking(t, ns, "member-2")
	// The fleet API reviews its caller's token and access as the hub.
	framework.Await(t, "member-2 in the fleet API", func() error {
		var cl fleetapi.ClusterList
		if err := fleetGet(t, hub, "/fleet/v1/clusters", &cl); err != nil {
			return err
		}
		if len(cl.Items) != 1 || cl.Items[0].Name != "member-2" {
			return fmt.Errorf("clusters %+v", cl.Items)
		}
		return nil
	})
	if err := hc.Delete(ctx, memberSecret(ns, "member-2", nil)); err != nil {
		t.Fatal(err)
	}
	waitGone(t, ns, "member-2")
}

// checkOwnedWithoutBlocking checks that the MemberCluster ns/name is
// controlled by its Secret without blockOwnerDeletion: where the apiserver
// enforces owner-reference permissions (OwnerReferencesPermissionEnforcement,
// which the test apiserver does not run), setting it needs update on
// secrets/finalizers, which the generated Role does not grant.
func checkOwnedWithoutBlocking(t *testing.T, ns, name string) {
	t.Helper()
	var mc hubv1alpha1.MemberCluster
	if err := fleet.Hub.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, &mc); err != nil {
		t.Fatal(err)
	}
	refs := mc.OwnerReferences
	if len(refs) != 1 || refs[0].Kind != "Secret" || refs[0].Name != name || refs[0].Controller == nil || !*refs[0].Controller {
		t.Fatalf("MemberCluster owner references %+v, want its Secret as controller", refs)
	}
	if refs[0].BlockOwnerDeletion != nil && *refs[0].BlockOwnerDeletion {
		t.Errorf("MemberCluster owner reference blocks its Secret's deletion: needs update on secrets/finalizers, which the hub's Role lacks")
	}
}

// hubRoleIdentities creates, in the existing hub namespace ns, the hub's
// Role and the ClusterRole of deploy/rbac/role.yaml, and a ServiceAccount
// bound to them for each name; it returns a client config of each.
func hubRoleIdentities(t *testing.T, ns string, names ...string) []*rest.Config {
	t.Helper()
	ctx := context.Background()
	hc := fleet.Hub.Client
	raw, err := os.ReadFile(filepath.Join(framework.RepoRoot(), "deploy", "rbac", "role.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// The file holds the Role of the hub namespace and the ClusterRole of
	// the fleet API's token and access reviews.
	var role rbacv1.Role
	var reviews rbacv1.ClusterRole
	for _, doc := range bytes.Split(bytes.TrimPrefix(raw, []byte("---\n")), []byte("---\n")) {
		var into any = &role
		if bytes.Contains(doc, []byte("kind: ClusterRole\n")) {
			into = &reviews
		}
		if err := yaml.UnmarshalStrict(doc, into); err != nil {
			t.Fatal(err)
		}
	}
	if role.Name == "" || reviews.Name == "" {
		t.Fatalf("deploy/rbac/role.yaml lacks the Role or the ClusterRole")
	}
	reviews.Name = "flink-hub-rbac-test-" + ns
	role.Namespace = ns
	if err := hc.Create(ctx, &role); err != nil {
		t.Fatal(err)
	}
	if err := hc.Create(ctx, &reviews); err != nil {
		t.Fatal(err)
	}
	var configs []*rest.Config
	for _, name := range names {
		sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
		for _, o := range []client.Object{
			sa,
			&rbacv1.RoleBinding{
				ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
				RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role.Name},
				Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: name, Namespace: ns}},
			},
			&rbacv1.ClusterRoleBinding{
				ObjectMeta: metav1.ObjectMeta{Name: reviews.Name + "-" + name},
				RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: reviews.Name},
				Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: name, Namespace: ns}},
			},
		} {
			if err := hc.Create(ctx, o); err != nil {
				t.Fatal(err)
			}
		}
		tr, err := kubernetes.NewForConfigOrDie(fleet.Hub.Config).CoreV1().ServiceAccounts(ns).
			CreateToken(ctx, name, &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		configs = append(configs, &rest.Config{Host: fleet.Hub.Config.Host, BearerToken: tr.Status.Token,
			TLSClientConfig: rest.TLSClientConfig{CAData: fleet.Hub.Config.CAData}})
	}
	return configs
}
