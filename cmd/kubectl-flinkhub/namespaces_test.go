package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/authentication/serviceaccount"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	flinkv1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	hubv1alpha1 "github.com/flink-hub/flink-hub/apis/hub/v1alpha1"
	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/clusters/fleetindex"
	"github.com/flink-hub/flink-hub/internal/clusters/memberconfig"
	"github.com/flink-hub/flink-hub/internal/clusters/registration"
)

// TestClusterAddWithNamespaces registers a member with --namespaces a,b:
// the hub's identity may make every call the hub makes in a and b and on
// its own cluster-scoped objects, and nothing in c, in kube-system or
// across all namespaces; the hub watches only a and b; narrowing to a
// revokes b; remove revokes the rest.
func TestClusterAddWithNamespaces(t *testing.T) {
	ctx := context.Background()
	member := fleet.Members[0]
	const sa = "scoped-hub"
	for _, ns := range []string{"a", "b", "c"} {
		if err := member.CreateNamespace(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}
	// Created before the registration: the hub's first list would see both.
	for _, ns := range []string{"a", "c"} {
		fd := &flinkv1beta1.FlinkDeployment{ObjectMeta: metav1.ObjectMeta{Name: "in-" + ns, Namespace: ns},
			Spec: flinkv1beta1.FlinkDeploymentSpec{Image: "flink:2.2", FlinkVersion: "v2_2"}}
		if err := member.Client.Create(ctx, fd); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = member.Client.Delete(context.Background(), fd) })
	}
	if code, out, errOut := plugin("cluster", "add", "member", "--name", "scoped", "--namespaces", "b,a", "--service-account", sa); code != 0 {
		t.Fatalf("cluster add exited %d: %s %s", code, out, errOut)
	}
	t.Cleanup(func() {
		_, _, _ = plugin("cluster", "remove", "scoped", "--member-context", "member", "--service-account", sa)
	})
	var secret corev1.Secret
	if err := fleet.Hub.Client.Get(ctx, client.ObjectKey{Namespace: hubNamespace, Name: "scoped"}, &secret); err != nil {
		t.Fatal(err)
	}
	if got := secret.Annotations[memberconfig.NamespacesAnnotation]; got != "a,b" {
		t.Fatalf("Secret annotation %s=%q, want a,b", memberconfig.NamespacesAnnotation, got)
	}
	cfg, err := memberconfig.FromSecret(&secret)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("rights only in a and b", func(t *testing.T) { checkRightsOnlyInAAndB(t, cfg) })

	t.Run("the hub watches only a and b", func(t *testing.T) { checkHubWatchesOnlyAAndB(t, ctx) })

	t.Run("narrowing to a revokes b", func(t *testing.T) { checkNarrowingRevokesB(t, member, sa, cfg) })

	t.Run("no request of the hub was refused", func(t *testing.T) { checkNoHubRequestRefused(t, member, sa) })

	t.Run("remove revokes the Roles", func(t *testing.T) { checkRemoveRevokesRoles(t, ctx, member, sa) })
}

// checkRightsOnlyInAAndB: rights only in a and b.
func checkRightsOnlyInAAndB(t *testing.T, cfg *rest.Config) {
	checkRights(t, cfg, map[string]bool{"a": true, "b": true, "c": false, "kube-system": false, "": false})
}

// checkHubWatchesOnlyAAndB: the hub watches only a and b.
func checkHubWatchesOnlyAAndB(t *testing.T, ctx context.Context) {
	eventually(t, "scoped/a/in-a listed, Ready", func() error {
		code, out, errOut := getDeployments("--cluster", "scoped", "-o", "json")
		if code != 0 {
			return fmt.Errorf("exit %d: %s", code, errOut)
		}
		var items []fleetindex.Deployment
		if err := json.Unmarshal([]byte(out), &items); err != nil {
			return err
		}
		if len(items) == 0 {
			return fmt.Errorf("no deployments yet")
		}
		if len(items) != 1 || fleetindex.KeyOf(&items[0]).String() != "scoped/a/in-a" {
			t.Fatalf("the hub sees %+v, want only scoped/a/in-a", items)
		}
		mc := &hubv1alpha1.MemberCluster{}
		if err := fleet.Hub.Client.Get(ctx, client.ObjectKey{Namespace: hubNamespace, Name: "scoped"}, mc); err != nil {
			return err
		}
		if !meta.IsStatusConditionTrue(mc.Status.Conditions, hubv1alpha1.ConditionReady) {
			return fmt.Errorf("scoped not Ready: %+v", mc.Status.Conditions)
		}
		return nil
	})
}

// checkNarrowingRevokesB: narrowing to a revokes b.
func checkNarrowingRevokesB(t *testing.T, member *framework.ControlPlane, sa string, cfg *rest.Config) {
	if code, out, errOut := plugin("cluster", "add", "member", "--name", "scoped", "--namespaces", "a", "--service-account", sa); code != 0 {
		t.Fatalf("cluster add exited %d: %s %s", code, out, errOut)
	}
	checkRights(t, cfg, map[string]bool{"a": true, "b": false})
}

// checkNoHubRequestRefused: no request of the hub was refused.
func checkNoHubRequestRefused(t *testing.T, member *framework.ControlPlane, sa string) {
	if err := framework.CheckNoRefusals(serviceaccount.MakeUsername("flink-hub", sa), member); err != nil {
		t.Fatal(err)
	}
}

// checkRemoveRevokesRoles: remove revokes the Roles.
func checkRemoveRevokesRoles(t *testing.T, ctx context.Context, member *framework.ControlPlane, sa string) {
	code, out, errOut := plugin("cluster", "remove", "scoped", "--member-context", "member", "--service-account", sa)
	if code != 0 || !strings.Contains(out, "deleted Role a/flink-hub:flink-hub:"+sa) || !strings.Contains(out, "deleted RoleBinding a/") {
		t.Fatalf("cluster remove exited %d: %s %s", code, out, errOut)
	}
	err := member.Client.Get(ctx, client.ObjectKey{Namespace: "a", Name: "flink-hub:flink-hub:" + sa}, &rbacv1.Role{})
	if !apierrors.IsNotFound(err) {
		t.Fatalf("Role left in a: %v", err)
	}
}

// checkRights asks the member, as cfg's identity, about every call the hub
// makes: the cluster-scoped ones must be allowed, the others allowed
// exactly in the namespaces mapped to true ("" asks across all
// namespaces).
func checkRights(t *testing.T, cfg *rest.Config, namespaces map[string]bool) {
	t.Helper()
	reviews := kubernetes.NewForConfigOrDie(cfg).AuthorizationV1().SelfSubjectAccessReviews()
	ask := func(call registration.Call, ns string) bool {
		review, err := reviews.Create(context.Background(), &authorizationv1.SelfSubjectAccessReview{
			Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authorizationv1.ResourceAttributes{
				Namespace: ns, Group: call.Group, Resource: call.Resource, Subresource: call.Subresource, Verb: call.Verb, Name: call.Name,
			}},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return review.Status.Allowed
	}
	for _, call := range registration.MemberCalls(true) {
		if call.ClusterWide || call.Namespace != "" {
			if !ask(call, call.Namespace) {
				t.Errorf("may not %s %s/%s %q (%s)", call.Verb, call.Group, call.Resource, call.Name, call.Why)
			}
			continue
		}
		for ns, want := range namespaces {
			if got := ask(call, ns); got != want {
				t.Errorf("in namespace %q: %s %s/%s %s allowed=%v, want %v", ns, call.Verb, call.Group, call.Resource, call.Subresource, got, want)
			}
		}
	}
	// No write on any other cluster-scoped object.
	for _, res := range []string{"namespaces", "clusterroles", "clusterrolebindings", "nodes"} {
		group := ""
		if strings.HasPrefix(res, "cluster") {
			group = "rbac.authorization.k8s.io"
		}
		if ask(registration.Call{Group: group, Resource: res, Verb: "create"}, "") {
			t.Errorf("may create %s", res)
		}
	}
}
