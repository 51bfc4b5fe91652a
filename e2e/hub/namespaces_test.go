package hub

import (
	"context"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	hubv1alpha1 "github.com/flink-hub/flink-hub/apis/hub/v1alpha1"
	"github.com/flink-hub/flink-hub/e2e/conformance/examples"
	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/clusters/registration"
)

// TestMemberRegisteredForNamespaces registers a member with `cluster add
// --namespaces a,b`: the hub replicas, with only the rights that gives,
// run a FlinkDeployment of namespace a, never see or touch one of
// namespace c (both exist before the registration, so the hub's first list
// would hold both), and are never refused by the member.
func TestMemberRegisteredForNamespaces(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	m, secret := startScopedMember(t)
	for _, ns := range []string{"a", "b", "c"} {
		namespace(t, ctx, m, ns)
	}
	basic, err := examples.Named("basic/basic-example")
	if err != nil {
		t.Fatal(err)
	}
	inC, inA := basic.DeepCopy(), basic.DeepCopy()
	inC.Namespace, inA.Namespace = "c", "a"
	for _, fd := range []*v1beta1.FlinkDeployment{inC, inA} {
		if err := m.Client.Create(ctx, fd); err != nil {
			t.Fatal(err)
		}
	}
	mc := registerForNamespaces(t, ctx, m, secret, "a", "b")

	var got v1beta1.FlinkDeployment
	if err := framework.Eventually(ctx, 2*time.Minute, func(ctx context.Context) (bool, error) {
		err := m.Client.Get(ctx, client.ObjectKeyFromObject(inA), &got)
		return err == nil && stable(&got), err
	}); err != nil {
		t.Fatalf("a/%s not running: %v; status %+v", inA.Name, err, got.Status)
	}
	if err := framework.Eventually(ctx, time.Minute, func(ctx context.Context) (bool, error) {
		err := fleet.Hub.Client.Get(ctx, client.ObjectKeyFromObject(secret), mc)
		return err == nil && mc.Status.FlinkDeployments >= 1, err
	}); err != nil {
		t.Fatalf("the hub's index has no FlinkDeployment of %s: %v", m.Name, err)
	}
	if mc.Status.FlinkDeployments != 1 {
		t.Errorf("the hub sees %d FlinkDeployments in %s, want 1 (only namespace a)", mc.Status.FlinkDeployments, m.Name)
	}
	if err := m.Client.Get(ctx, client.ObjectKeyFromObject(inC), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Finalizers) > 0 || got.Status.LifecycleState != "" || got.Status.Error != "" {
		t.Errorf("the hub touched c/%s: finalizers %q, status %+v", got.Name, got.Finalizers, got.Status)
	}
	var deps appsv1.DeploymentList
	if err := m.Client.List(ctx, &deps, client.InNamespace("c")); err != nil {
		t.Fatal(err)
	}
	if len(deps.Items) > 0 {
		t.Errorf("the hub created %d Deployments in namespace c", len(deps.Items))
	}
	if err := framework.CheckNoRefusals(framework.HubUser, m); err != nil {
		t.Errorf("the member refused the hub: %v", err)
	}
}

// startScopedMember starts a member control plane, "scoped", that the
// simulator runs, and returns it with its kubeconfig Secret in the hub (by
// name). When the test ends, the Secret is deleted, the hub disengages and
// the member stops.
func startScopedMember(t *testing.T) (*framework.ControlPlane, *corev1.Secret) {
	t.Helper()
	planes, err := framework.StartControlPlanes(framework.ControlPlaneOptions{Name: "scoped", CRDDirs: []string{framework.CRDDir()}})
	if err != nil {
		t.Fatal(err)
	}
	m := planes[0]
	if err := sim.AddMember(m.Name, m.Config); err != nil {
		_ = framework.StopControlPlanes(m)
		t.Fatal(err)
	}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: hubNamespace, Name: m.Name}}
	t.Cleanup(func() {
		// Disengage (the hub closes its watches), then stop the member.
		ctx := context.Background()
		_ = fleet.Hub.Client.Delete(ctx, secret)
		if err := framework.Eventually(ctx, time.Minute, func(ctx context.Context) (bool, error) {
			err := fleet.Hub.Client.Get(ctx, client.ObjectKeyFromObject(secret), &hubv1alpha1.MemberCluster{})
			return apierrors.IsNotFound(err), nil
		}); err != nil {
			t.Errorf("MemberCluster %s not removed: %v", m.Name, err)
		}
		sim.RemoveMember(m.Name)
		if err := framework.StopControlPlanes(m); err != nil {
			t.Error(err)
		}
	})
	return m, secret
}

// registerForNamespaces registers member m with the hub for namespaces,
// as `cluster add --namespaces` does, and waits until its MemberCluster,
// named as its kubeconfig Secret, is Ready. It returns the MemberCluster.
func registerForNamespaces(t *testing.T, ctx context.Context, m *framework.ControlPlane, secret *corev1.Secret, namespaces ...string) *hubv1alpha1.MemberCluster {
	t.Helper()
	o := framework.RegistrationOptions(m.Name, hubNamespace)
	o.Namespaces = namespaces
	r := &registration.Registrar{Member: m.Config, MemberClient: m.Client, Hub: fleet.Hub.Client}
	if _, err := r.Add(ctx, o); err != nil {
		t.Fatal(err)
	}
	mc := &hubv1alpha1.MemberCluster{}
	if err := framework.Eventually(ctx, time.Minute, func(ctx context.Context) (bool, error) {
		err := fleet.Hub.Client.Get(ctx, client.ObjectKeyFromObject(secret), mc)
		return err == nil && meta.IsStatusConditionTrue(mc.Status.Conditions, hubv1alpha1.ConditionReady), client.IgnoreNotFound(err)
	}); err != nil {
		t.Fatalf("member not Ready: %v; conditions %+v", err, mc.Status.Conditions)
	}
	return mc
}
