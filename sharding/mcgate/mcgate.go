// Package mcgate connects a sharding.Gate to multicluster-runtime
// controllers: an event handler that enqueues only owned keys, and a
// Requeuer that enqueues every cached object of a shard when this replica
// acquires it.
package mcgate

import (
	"context"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/cluster"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"
	mchandler "sigs.k8s.io/multicluster-runtime/pkg/handler"
	"sigs.k8s.io/multicluster-runtime/pkg/multicluster"
	mcreconcile "sigs.k8s.io/multicluster-runtime/pkg/reconcile"

	"github.com/flink-hub/flink-hub/sharding"
)

// listTimeout bounds one List of a member cluster's cache.
const listTimeout = time.Second

type queue = workqueue.TypedRateLimitingInterface[mcreconcile.Request]

func request(clusterName multicluster.ClusterName, nn types.NamespacedName) mcreconcile.Request {
	return mcreconcile.Request{ClusterName: clusterName, Request: reconcile.Request{NamespacedName: nn}}
}

// Enqueue is an event handler for a multicluster builder's Watches: it
// enqueues the object's own request, but only when gate owns its key.
func Enqueue(gate sharding.Gate) mchandler.TypedEventHandlerFunc[client.Object, mcreconcile.Request] {
	return func(name multicluster.ClusterName, _ cluster.Cluster) handler.TypedEventHandler[client.Object, mcreconcile.Request] {
		add := func(obj client.Object, q queue) {
			if obj == nil {
				return
			}
			if gate.Owns(sharding.Key(string(name), obj.GetNamespace(), obj.GetName())) {
				q.Add(request(name, client.ObjectKeyFromObject(obj)))
			}
		}
		return handler.TypedFuncs[client.Object, mcreconcile.Request]{
			CreateFunc: func(_ context.Context, e event.TypedCreateEvent[client.Object], q queue) { add(e.Object, q) },
			UpdateFunc: func(_ context.Context, e event.TypedUpdateEvent[client.Object], q queue) { add(e.ObjectNew, q) },
			DeleteFunc: func(_ context.Context, e event.TypedDeleteEvent[client.Object], q queue) { add(e.Object, q) },
			GenericFunc: func(_ context.Context, e event.TypedGenericEvent[client.Object], q queue) {
				add(e.Object, q)
			},
		}
	}
}

// Requeuer enqueues every cached object of a shard, in every engaged member
// cluster, when the gate reports that this replica acquired the shard. Add
// it to the multicluster manager (it tracks clusters through Engage) and
// pass Source to the controller's WatchesRawSource.
type Requeuer struct {
	gate    sharding.Gate
	newList func() client.ObjectList

	mu       sync.Mutex
	clusters map[multicluster.ClusterName]cluster.Cluster
	queue    queue
	counts   map[int]int
}

// NewRequeuer returns a Requeuer for objects listed with newList (e.g.
// func() client.ObjectList { return &v1beta1.FlinkDeploymentList{} }).
func NewRequeuer(gate sharding.Gate, newList func() client.ObjectList) *Requeuer {
	r := &Requeuer{gate: gate, newList: newList, clusters: map[multicluster.ClusterName]cluster.Cluster{}}
	gate.OnAcquire(func(shard int) { r.enqueueShard(context.Background(), shard) })
	return r
}

// Source captures the controller's queue. Shards acquired before the
// controller starts need nothing: its initial list goes through Enqueue.
func (r *Requeuer) Source() source.TypedSource[mcreconcile.Request] {
	return source.TypedFunc[mcreconcile.Request](func(_ context.Context, q queue) error {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.queue = q
		return nil
	})
}

// countInterval is how often Start refreshes the per-shard key counts.
const countInterval = 2 * time.Second

// Start implements manager.Runnable: it refreshes the per-shard key counts
// that KeyCount returns until ctx ends.
func (r *Requeuer) Start(ctx context.Context) error {
	t := time.NewTicker(countInterval)
	defer t.Stop()
	for {
		counts := r.KeyCounts(ctx)
		r.mu.Lock()
		r.counts = counts
		r.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Engage implements multicluster.Aware: it remembers the cluster until ctx
// ends.
func (r *Requeuer) Engage(ctx context.Context, name multicluster.ClusterName, cl cluster.Cluster) error {
	r.mu.Lock()
	r.clusters[name] = cl
	r.mu.Unlock()
	go func() {
		<-ctx.Done()
		r.mu.Lock()
		if r.clusters[name] == cl {
			delete(r.clusters, name)
		}
		r.mu.Unlock()
	}()
	return nil
}

func (r *Requeuer) snapshot() (queue, map[multicluster.ClusterName]cluster.Cluster) {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[multicluster.ClusterName]cluster.Cluster, len(r.clusters))
	for k, v := range r.clusters {
		out[k] = v
	}
	return r.queue, out
}

// eachKey calls fn for every cached object of every engaged cluster.
func (r *Requeuer) eachKey(ctx context.Context, fn func(multicluster.ClusterName, types.NamespacedName)) {
	_, clusters := r.snapshot()
	for name, cl := range clusters {
		list := r.newList()
		// An unsynced cache (member unreachable) blocks List: bound it.
		lctx, cancel := context.WithTimeout(ctx, listTimeout)
		// Only names are read: list the cached objects themselves, not
		// deep copies of every one (this runs on every shard acquisition
		// and every count).
		err := cl.GetCache().List(lctx, list, client.UnsafeDisableDeepCopy)
		cancel()
		if err != nil {
			continue
		}
		_ = meta.EachListItem(list, func(o runtime.Object) error {
			if m, err := meta.Accessor(o); err == nil {
				fn(name, types.NamespacedName{Namespace: m.GetNamespace(), Name: m.GetName()})
			}
			return nil
		})
	}
}

func (r *Requeuer) enqueueShard(ctx context.Context, shard int) {
	q, _ := r.snapshot()
	if q == nil {
		return
	}
	r.eachKey(ctx, func(name multicluster.ClusterName, nn types.NamespacedName) {
		if r.gate.ShardOf(sharding.Key(string(name), nn.Namespace, nn.Name)) == shard {
			q.Add(request(name, nn))
		}
	})
}

// KeyCounts counts the cached objects of every shard, for
// sharding.WithKeyCount.
func (r *Requeuer) KeyCounts(ctx context.Context) map[int]int {
	out := map[int]int{}
	r.eachKey(ctx, func(name multicluster.ClusterName, nn types.NamespacedName) {
		out[r.gate.ShardOf(sharding.Key(string(name), nn.Namespace, nn.Name))]++
	})
	return out
}

// KeyCount is the number of cached objects of shard as last counted by
// Start, for sharding.WithKeyCount; it never blocks on a cache.
func (r *Requeuer) KeyCount(shard int) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.counts[shard]
}
