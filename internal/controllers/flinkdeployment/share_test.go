package flinkdeployment

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/multicluster-runtime/pkg/multicluster"
	mcreconcile "sigs.k8s.io/multicluster-runtime/pkg/reconcile"

	"github.com/flink-hub/flink-hub/internal/controllers/flinkdeployment/workershare"
)

// TestSharedHandsTurnedAwayRequestsBack: with a share of one worker, a
// second request of a busy member does not run, is counted as waiting,
// and is handed back the moment the first reconcile ends; a request of
// another member runs meanwhile.
func TestSharedHandsTurnedAwayRequestsBack(t *testing.T) {
	req := func(cluster, name string) mcreconcile.Request {
		return mcreconcile.Request{ClusterName: multicluster.ClusterName(cluster), Request: reconcile.Request{NamespacedName: types.NamespacedName{Namespace: "ns", Name: name}}}
	}
	started, finish := make(chan mcreconcile.Request, 3), make(chan struct{})
	ran := map[mcreconcile.Request]bool{}
	inner := reconcile.TypedFunc[mcreconcile.Request](func(_ context.Context, r mcreconcile.Request) (reconcile.Result, error) {
		ran[r] = true
		started <- r
		if r.Name == "slow" {
			<-finish
		}
		return reconcile.Result{}, nil
	})
	var woken []mcreconcile.Request
	r := shared(workershare.New[mcreconcile.Request](1), func(r mcreconcile.Request) { woken = append(woken, r) }, inner, countWaiting)

	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = r.Reconcile(context.Background(), req("sick", "slow"))
	}()
	<-started
	if res, err := r.Reconcile(context.Background(), req("sick", "second")); err != nil || res != (reconcile.Result{}) {
		t.Fatalf("a turned-away request returned %+v, %v; want nothing (it waits in line)", res, err)
	}
	if ran[req("sick", "second")] {
		t.Fatal("a request over its member's share ran")
	}
	if n := testutil.ToFloat64(requestsWaiting.WithLabelValues("sick")); n != 1 {
		t.Errorf("flinkhub_member_requests_waiting{cluster=sick} = %v, want 1", n)
	}
	if _, err := r.Reconcile(context.Background(), req("healthy", "other")); err != nil || !ran[req("healthy", "other")] {
		t.Fatalf("another member's request did not run: %v", err)
	}
	close(finish)
	<-done
	if len(woken) != 1 || woken[0] != req("sick", "second") {
		t.Fatalf("handed back %v, want the turned-away request", woken)
	}
	if n := testutil.ToFloat64(requestsWaiting.WithLabelValues("sick")); n != 0 {
		t.Errorf("flinkhub_member_requests_waiting{cluster=sick} = %v after the hand-back, want 0", n)
	}
}
