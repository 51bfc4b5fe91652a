package flinkdeployment

import (
	"context"
	"sync"

	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"
	mcreconcile "sigs.k8s.io/multicluster-runtime/pkg/reconcile"

	"github.com/flink-hub/flink-hub/internal/controllers/flinkdeployment/workershare"
)

// DefaultMemberWorkerShare is the share of the reconcile workers one member
// may hold at once when SetupOptions leaves it zero.
const DefaultMemberWorkerShare = 0.5

// SharedByMember wraps inner so that one member holds at most share (of
// workers, rounded up; DefaultMemberWorkerShare when zero) of the
// controller's workers at once, and returns the source that hands
// turned-away requests back: add it to the controller. waiting, if set,
// hears how many requests of a member wait.
func SharedByMember(workers int, share float64, inner reconcile.TypedReconciler[mcreconcile.Request], waiting func(member string, n int)) (reconcile.TypedReconciler[mcreconcile.Request], source.TypedSource[mcreconcile.Request], error) {
	if share == 0 {
		share = DefaultMemberWorkerShare
	}
	if err := workershare.Validate(share); err != nil {
		return nil, nil, err
	}
	if waiting == nil {
		waiting = func(string, int) {}
	}
	wake := &wakeups{}
	return shared(workershare.New[mcreconcile.Request](workershare.Limit(workers, share)), wake.add, inner, waiting), wake.source(), nil
}

// SharedThenGated admits a request first to its member's worker share
// (SharedByMember), then to gate (GatedBy with key), then runs inner. In
// that order a request the share turns away never reaches Gate.Begin: the
// first admission of a key after its shard was acquired, which makes that
// reconcile read the FlinkDeployment live (handoff.First), is always one
// that runs. It returns the source that hands turned-away requests back.
func SharedThenGated(gate Gate, key func(mcreconcile.Request) string, workers int, share float64, inner reconcile.TypedReconciler[mcreconcile.Request], waiting func(member string, n int)) (reconcile.TypedReconciler[mcreconcile.Request], source.TypedSource[mcreconcile.Request], error) {
	return SharedByMember(workers, share, GatedBy(gate, key, inner), waiting)
}

// countWaiting sets flinkhub_member_requests_waiting of member to n.
func countWaiting(member string, n int) { requestsWaiting.WithLabelValues(member).Set(float64(n)) }

// shared admits a request to inner only while its member holds fewer
// workers than its share. Otherwise the request waits in its member's line,
// without an error and without holding a worker, and wake hands it back to
// the queue as soon as a reconcile of that member ends. A member whose
// apiserver blackholes traffic thus leaves the other workers to the other
// members, and a healthy member's requests wait no longer than a worker.
func shared(shares *workershare.Shares[mcreconcile.Request], wake func(mcreconcile.Request), inner reconcile.TypedReconciler[mcreconcile.Request], waiting func(member string, n int)) reconcile.TypedReconciler[mcreconcile.Request] {
	return reconcile.TypedFunc[mcreconcile.Request](func(ctx context.Context, req mcreconcile.Request) (reconcile.Result, error) {
		member := req.ClusterName.String()
		release, ok := shares.TryAcquire(member, req)
		if !ok {
			waiting(member, shares.Waiting(member))
			return reconcile.Result{}, nil
		}
		defer func() {
			next, ok := release()
			waiting(member, shares.Waiting(member))
			if ok {
				wake(next)
			}
		}()
		return inner.Reconcile(ctx, req)
	})
}

// wakeups adds requests back to the controller's queue: a source for
// WatchesRawSource. Requests woken before the controller started wait for
// its queue.
type wakeups struct {
	mu    sync.Mutex
	queue workqueue.TypedRateLimitingInterface[mcreconcile.Request]
	early []mcreconcile.Request
}

// source is the controller source that gives wakeups its queue.
func (w *wakeups) source() source.TypedSource[mcreconcile.Request] {
	return source.TypedFunc[mcreconcile.Request](func(_ context.Context, q workqueue.TypedRateLimitingInterface[mcreconcile.Request]) error {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.queue = q
		for _, req := range w.early {
			q.Add(req)
		}
		w.early = nil
		return nil
	})
}

// add puts req back in the queue.
func (w *wakeups) add(req mcreconcile.Request) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.queue == nil {
		w.early = append(w.early, req)
		return
	}
	w.queue.Add(req)
}
