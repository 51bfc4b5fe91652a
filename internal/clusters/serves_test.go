package clusters_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/multicluster-runtime/pkg/multicluster"

	flinkv1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/clusters/fleetindex"
)

// TestReplicaEngagesOnlyTheMembersItServes: with ServesMember (a member
// spread) a replica connects to, watches and caches only the members it
// serves. A member it comes to serve is engaged on Reevaluate, its
// FlinkDeployments indexed; a member it stops serving is disengaged: no
// cluster, no cache, no index rows, and its claim stays held for the
// replicas that serve it.
func TestReplicaEngagesOnlyTheMembersItServes(t *testing.T) {
	const ns = "serves"
	ctx := t.Context()
	a, b := fleet.Members[0], fleet.Members[1]
	var mu sync.Mutex
	served := map[string]bool{a.Name: true}
	serves := func(m string) bool {
		mu.Lock()
		defer mu.Unlock()
		return served[m]
	}
	serve := func(m string, yes bool) {
		mu.Lock()
		served[m] = yes
		mu.Unlock()
	}
	opts := testOptions(ns)
	opts.ServesMember = serves
	hub := startHub(t, opts)
	for _, m := range []string{a.Name, b.Name} {
		member := a
		if m == b.Name {
			member = b
		}
		if err := fleet.Hub.Client.Create(ctx, memberSecret(ns, m, hubKubeconfig(t, member))); err != nil {
			t.Fatal(err)
		}
	}
	awaitEngaged(t, hub, a.Name)
	rowsOf := func(member string) int {
		return len(hub.Index.Deployments(fleetindex.Filter{Cluster: member}))
	}
	createDeployment(t, ctx, a, "serves-apps", "in-a")
	createDeployment(t, ctx, b, "serves-apps", "in-b")
	eventually(t, 30*time.Second, "a's FlinkDeployment indexed", func() error {
		if rowsOf(a.Name) == 0 {
			return errors.New("no row")
		}
		return nil
	})
	// Reconciled, and still not engaged: the Secret of b was seen (its
	// MemberCluster exists) yet no cluster was made for it.
	if _, err := hub.Provider.Get(ctx, multicluster.ClusterName(b.Name)); err == nil || rowsOf(b.Name) != 0 {
		t.Fatalf("a replica that does not serve %s engaged it (rows %d)", b.Name, rowsOf(b.Name))
	}

	serve(b.Name, true)
	if err := hub.Provider.Reevaluate(ctx); err != nil {
		t.Fatal(err)
	}
	awaitEngaged(t, hub, b.Name)
	eventually(t, 30*time.Second, "b's FlinkDeployment indexed", func() error {
		if rowsOf(b.Name) == 0 {
			return errors.New("no row")
		}
		return nil
	})

	serve(a.Name, false)
	if err := hub.Provider.Reevaluate(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "a let go", func() error {
		if _, err := hub.Provider.Get(ctx, multicluster.ClusterName(a.Name)); err == nil {
			return errors.New("still engaged")
		}
		if n := rowsOf(a.Name); n != 0 {
			return errors.New("its rows are still indexed")
		}
		return nil
	})
	// b is untouched.
	if !engaged(hub, b.Name) || rowsOf(b.Name) == 0 {
		t.Fatal("letting a go disturbed b")
	}
}

// createDeployment creates a FlinkDeployment ns/name in member.
func createDeployment(t *testing.T, ctx context.Context, member *framework.ControlPlane, ns, name string) {
	t.Helper()
	if err := member.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); client.IgnoreAlreadyExists(err) != nil {
		t.Fatal(err)
	}
	fd := &flinkv1beta1.FlinkDeployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: flinkv1beta1.FlinkDeploymentSpec{Image: "flink:2.2", FlinkVersion: "v2_2"}}
	if err := member.Client.Create(ctx, fd); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = member.Client.Delete(context.Background(), fd) })
}
