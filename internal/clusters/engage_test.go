package clusters_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	mcbuilder "sigs.k8s.io/multicluster-runtime/pkg/builder"
	mchandler "sigs.k8s.io/multicluster-runtime/pkg/handler"
	mcreconcile "sigs.k8s.io/multicluster-runtime/pkg/reconcile"

	flinkv1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	hubv1alpha1 "github.com/flink-hub/flink-hub/apis/hub/v1alpha1"
	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/clusters"
)

// TestMemberThatNeverListsDoesNotHoldOthers registers a member whose hub
// identity may not list FlinkSessionJobs (its informer never syncs, as a
// member whose apiserver stops answering while it is engaged), then a
// healthy member, to a hub with a controller that watches both kinds in
// every member as the hub's controllers do. Engaging a member holds locks
// every engagement shares; the stuck member's engagement must fail within
// the sync timeout and say why on its MemberCluster, the healthy member
// must be engaged meanwhile, and the stuck one once its rights come back.
func TestMemberThatNeverListsDoesNotHoldOthers(t *testing.T) {
	const ns = "engage"
	ctx := t.Context()
	stuck, err := framework.StartControlPlane(framework.ControlPlaneOptions{Name: "stuck", CRDDirs: []string{framework.CRDDir()}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { // runs after the hub has stopped
		if err := stuck.Stop(); err != nil {
			t.Error(err)
		}
	})
	kubeconfig := hubKubeconfig(t, stuck)
	restore := refuseSessionJobs(t, stuck)

	opts := testOptions(ns)
	opts.MemberWatchedKinds = []client.Object{&flinkv1beta1.FlinkDeployment{}, &flinkv1beta1.FlinkSessionJob{}}
	opts.MemberSyncTimeout = 3 * time.Second
	if err := fleet.Hub.CreateNamespace(ctx, ns); err != nil {
		t.Fatal(err)
	}
	hub, _ := launchHub(t, fleet.Hub.Config, opts, watchBothKinds)
	if err := fleet.Hub.Client.Create(ctx, memberSecret(ns, "stuck", kubeconfig)); err != nil {
		t.Fatal(err)
	}
	c := waitEngaged(t, ns, "stuck", metav1.ConditionFalse, hubv1alpha1.ReasonEngageFailed)
	if !strings.Contains(c.Message, "FlinkSessionJob") || !strings.Contains(c.Message, "3s") {
		t.Errorf("Engaged message %q names neither the kind that was not listed nor the timeout", c.Message)
	}
	waitEvent(t, ns, "stuck", "Warning", hubv1alpha1.ReasonEngageFailed)

	healthy := fleet.Members[0]
	if err := fleet.Hub.Client.Create(ctx, memberSecret(ns, healthy.Name, hubKubeconfig(t, healthy))); err != nil {
		t.Fatal(err)
	}
	awaitEngaged(t, hub, healthy.Name)
	waitEngaged(t, ns, healthy.Name, metav1.ConditionTrue, hubv1alpha1.ReasonEngaged)
	if engaged(hub, "stuck") {
		t.Error("the member that cannot list FlinkSessionJobs is engaged")
	}

	restore()
	awaitEngaged(t, hub, "stuck")
	waitEngaged(t, ns, "stuck", metav1.ConditionTrue, hubv1alpha1.ReasonEngaged)
}

// watchBothKinds adds a controller that watches FlinkDeployments and
// FlinkSessionJobs in every member, as the hub's controllers do.
func watchBothKinds(hub *clusters.Hub) error {
	return mcbuilder.ControllerManagedBy(hub.Manager).
		Named("engage-test").
		Watches(&flinkv1beta1.FlinkSessionJob{}, mchandler.TypedEnqueueRequestForObject[client.Object]()).
		Watches(&flinkv1beta1.FlinkDeployment{}, mchandler.TypedEnqueueRequestForObject[client.Object]()).
		Complete(mcreconcile.Func(func(context.Context, mcreconcile.Request) (reconcile.Result, error) {
			return reconcile.Result{}, nil
		}))
}

// refuseSessionJobs takes FlinkSessionJobs out of the rules `cluster add`
// granted the hub in member; the returned function grants them again.
func refuseSessionJobs(t *testing.T, member *framework.ControlPlane) (restore func()) {
	t.Helper()
	var roles rbacv1.ClusterRoleList
	if err := member.Client.List(t.Context(), &roles); err != nil {
		t.Fatal(err)
	}
	for i := range roles.Items {
		role := &roles.Items[i]
		original := role.DeepCopy()
		changed := false
		for j, rule := range role.Rules {
			if k := slices.Index(rule.Resources, "flinksessionjobs"); k >= 0 {
				role.Rules[j].Resources = slices.Delete(slices.Clone(rule.Resources), k, k+1)
				changed = true
			}
		}
		if !changed {
			continue
		}
		if err := member.Client.Update(t.Context(), role); err != nil {
			t.Fatal(err)
		}
		return func() {
			role.Rules = original.Rules
			if err := member.Client.Update(context.Background(), role); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Fatal("no ClusterRole of the member grants flinksessionjobs")
	return nil
}

// waitEngaged waits for the member's Engaged condition.
func waitEngaged(t *testing.T, ns, name string, status metav1.ConditionStatus, reason string) *metav1.Condition {
	t.Helper()
	var got *metav1.Condition
	eventually(t, 30*time.Second, fmt.Sprintf("%s Engaged=%s/%s", name, status, reason), func() error {
		_, mc, err := readyCondition(t.Context(), ns, name)
		if err != nil {
			return err
		}
		got = meta.FindStatusCondition(mc.Status.Conditions, hubv1alpha1.ConditionEngaged)
		if got == nil || got.Status != status || got.Reason != reason {
			return fmt.Errorf("Engaged = %+v", got)
		}
		return nil
	})
	return got
}
