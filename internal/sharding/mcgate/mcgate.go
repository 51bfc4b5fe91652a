// Package mcgate connects a sharding.Gate to multicluster-runtime
// controllers: an event handler that enqueues only owned keys, and a
// Requeuer that enqueues every cached object of a shard when this replica
// acquires it.
package mcgate

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/controller-runtime/pkg/cluster"
	"sigs.k8s.io/controller-runtime/pkg/controller/priorityqueue"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"
	mchandler "sigs.k8s.io/multicluster-runtime/pkg/handler"
	"sigs.k8s.io/multicluster-runtime/pkg/multicluster"
	mcreconcile "sigs.k8s.io/multicluster-runtime/pkg/reconcile"

	"github.com/flink-hub/flink-hub/internal/sharding"
	"github.com/flink-hub/flink-hub/internal/sharding/shardkey"
)

// listTimeout bounds one List of a member cluster's cache.
const listTimeout = time.Second

type queue = workqueue.TypedRateLimitingInterface[mcreconcile.Request]

func request(clusterName multicluster.ClusterName, nn types.NamespacedName) mcreconcile.Request {
	return mcreconcile.Request{ClusterName: clusterName, Request: reconcile.Request{NamespacedName: nn}}
}

// Owner says whether this replica owns a key; sharding.Gate is one.
type Owner interface {
	Owns(key string) bool
}

// Enqueue is an event handler for a multicluster builder's Watches: it
// enqueues the object's own request, but only when gate owns its key.
func Enqueue(gate Owner) mchandler.TypedEventHandlerFunc[client.Object, mcreconcile.Request] {
	return EnqueueKind(gate, "")
}

// EnqueueKind is Enqueue for objects whose keys have kind
// (shardkey.KindSessionJob; "" for FlinkDeployments).
func EnqueueKind(gate Owner, kind string) mchandler.TypedEventHandlerFunc[client.Object, mcreconcile.Request] {
	return enqueueOwned(gate, kind, func(obj client.Object) (types.NamespacedName, bool) { return client.ObjectKeyFromObject(obj), true })
}

// EnqueueOwned is the one ownership-aware event handler: it enqueues the
// request target maps an event's object to (none when ok is false), but
// only when gate owns its key.
func EnqueueOwned(gate Owner, target func(client.Object) (nn types.NamespacedName, ok bool)) mchandler.TypedEventHandlerFunc[client.Object, mcreconcile.Request] {
	return enqueueOwned(gate, "", target)
}

// enqueueOwned is EnqueueOwned for requests whose keys have kind.
func enqueueOwned(gate Owner, kind string, target func(client.Object) (nn types.NamespacedName, ok bool)) mchandler.TypedEventHandlerFunc[client.Object, mcreconcile.Request] {
	return func(name multicluster.ClusterName, _ cluster.Cluster) handler.TypedEventHandler[client.Object, mcreconcile.Request] {
		return handler.TypedEnqueueRequestsFromMapFunc(func(_ context.Context, obj client.Object) []mcreconcile.Request {
			nn, ok := target(obj)
			if !ok || !gate.Owns(shardkey.Key{Cluster: string(name), Namespace: nn.Namespace, Name: nn.Name, Kind: kind}.String()) {
				return nil
			}
			return []mcreconcile.Request{request(name, nn)}
		})
	}
}

// Requeuer enqueues every cached object of a shard, in every engaged member
// cluster, when the gate reports that this replica acquired the shard. Add
// it to the multicluster manager (it tracks clusters through Engage) and
// pass Source to the controller's WatchesRawSource.
type Requeuer struct {
	gate     sharding.Gate
	newList  func() client.ObjectList
	kind     string
	prefetch Prefetcher

	mu       sync.Mutex
	clusters map[multicluster.ClusterName]cluster.Cluster
	queue    queue
	counts   map[int]int
}

// Prefetcher is told, when a shard is acquired and before its keys are
// queued, each member namespace that holds keys of the shard, with a live
// reader of that member: listconfirm.Confirmer starts there the list the
// keys' first reconciles wait for. It must not block.
type Prefetcher interface {
	Prefetch(member string, reader client.Reader, namespace string)
}

// Option configures a Requeuer.
type Option func(*Requeuer)

// WithPrefetch tells p the member namespaces of every shard acquired.
func WithPrefetch(p Prefetcher) Option { return func(r *Requeuer) { r.prefetch = p } }

// NewRequeuer returns a Requeuer for objects listed with newList (e.g.
// func() client.ObjectList { return &v1beta1.FlinkDeploymentList{} })
// whose keys have kind ("" for FlinkDeployments).
func NewRequeuer(gate sharding.Gate, kind string, newList func() client.ObjectList, opts ...Option) *Requeuer {
	r := &Requeuer{gate: gate, newList: newList, kind: kind, clusters: map[multicluster.ClusterName]cluster.Cluster{}}
	for _, o := range opts {
		o(r)
	}
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
		// An unsynced cache (member unreachable) blocks: bound it.
		lctx, cancel := context.WithTimeout(ctx, listTimeout)
		names, err := r.cachedNames(lctx, cl)
		cancel()
		if err != nil {
			continue
		}
		for _, nn := range names {
			fn(name, nn)
		}
	}
}

// cachedNames lists the names of the objects in cl's cache. Only names are
// needed, and this runs on every shard acquisition and every count, over
// every object of every member: it reads the informer's keys, not the
// objects (a List, even without deep copies, copies every object into
// the list). A cache that does not expose its informer's store is listed.
func (r *Requeuer) cachedNames(ctx context.Context, cl cluster.Cluster) ([]types.NamespacedName, error) {
	list := r.newList()
	gvk, err := apiutil.GVKForObject(list, cl.GetScheme())
	if err != nil {
		return nil, err
	}
	gvk.Kind = strings.TrimSuffix(gvk.Kind, "List")
	inf, err := cl.GetCache().GetInformerForKind(ctx, gvk)
	if err != nil {
		return nil, err
	}
	if st, ok := inf.(interface{ GetStore() toolscache.Store }); ok {
		keys := st.GetStore().ListKeys()
		out := make([]types.NamespacedName, 0, len(keys))
		for _, k := range keys {
			if ns, n, err := toolscache.SplitMetaNamespaceKey(k); err == nil {
				out = append(out, types.NamespacedName{Namespace: ns, Name: n})
			}
		}
		return out, nil
	}
	if err := cl.GetCache().List(ctx, list, client.UnsafeDisableDeepCopy); err != nil {
		return nil, err
	}
	var out []types.NamespacedName
	err = meta.EachListItem(list, func(o runtime.Object) error {
		if m, err := meta.Accessor(o); err == nil {
			out = append(out, types.NamespacedName{Namespace: m.GetNamespace(), Name: m.GetName()})
		}
		return nil
	})
	return out, err
}

// key is the shard key of the object nn of member name.
func (r *Requeuer) key(name multicluster.ClusterName, nn types.NamespacedName) string {
	return shardkey.Key{Cluster: string(name), Namespace: nn.Namespace, Name: nn.Name, Kind: r.kind}.String()
}

// TakeoverPriority is the queue priority of the keys of a shard this
// replica just acquired. Nobody reconciled them while the shard moved, so
// they go before the queue's other work: events and periodic reconciles
// have priority 0, controller-runtime's initial list -100. A key's first
// reconcile after the move puts its later requeues back at 0
// (flinkdeployment.GatedBy), so moved keys do not keep precedence.
const TakeoverPriority = 10

func (r *Requeuer) enqueueShard(ctx context.Context, shard int) {
	q, clusters := r.snapshot()
	if q == nil {
		return
	}
	var moved []mcreconcile.Request
	r.eachKey(ctx, func(name multicluster.ClusterName, nn types.NamespacedName) {
		if r.gate.ShardOf(r.key(name, nn)) == shard {
			moved = append(moved, request(name, nn))
		}
	})
	if r.prefetch != nil {
		// Before the keys are queued: their first reconciles find the
		// lists running.
		type memberNamespace struct {
			member    multicluster.ClusterName
			namespace string
		}
		prefetched := map[memberNamespace]bool{}
		for _, req := range moved {
			sc := memberNamespace{req.ClusterName, req.Namespace}
			if cl, ok := clusters[req.ClusterName]; ok && !prefetched[sc] {
				prefetched[sc] = true
				r.prefetch.Prefetch(string(req.ClusterName), cl.GetAPIReader(), req.Namespace)
			}
		}
	}
	for _, req := range moved {
		addWithPriority(q, TakeoverPriority, req)
	}
}

// addWithPriority adds req to q with priority when q is a priority queue
// (controller-runtime's default), plainly otherwise.
func addWithPriority(q queue, priority int, req mcreconcile.Request) {
	if pq, ok := q.(priorityqueue.PriorityQueue[mcreconcile.Request]); ok {
		pq.AddWithOpts(priorityqueue.AddOpts{Priority: &priority}, req)
		return
	}
	q.Add(req)
}

// EnqueueMembers adds every object this replica owns in the members (in
// every engaged member when one of them is "") to the queue: something
// they all depend on, such as their default configuration, changed.
func (r *Requeuer) EnqueueMembers(ctx context.Context, members []string) {
	q, _ := r.snapshot()
	if q == nil || len(members) == 0 {
		return
	}
	all := slices.Contains(members, "")
	r.eachKey(ctx, func(name multicluster.ClusterName, nn types.NamespacedName) {
		if (all || slices.Contains(members, string(name))) && r.gate.Owns(r.key(name, nn)) {
			q.Add(request(name, nn))
		}
	})
}

// KeyCounts counts the cached objects of every shard, for
// sharding.WithKeyCount.
func (r *Requeuer) KeyCounts(ctx context.Context) map[int]int {
	out := map[int]int{}
	r.eachKey(ctx, func(name multicluster.ClusterName, nn types.NamespacedName) {
		out[r.gate.ShardOf(r.key(name, nn))]++
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
