package mcgate

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/cluster"
	"sigs.k8s.io/controller-runtime/pkg/controller/priorityqueue"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/multicluster-runtime/pkg/multicluster"
	mcreconcile "sigs.k8s.io/multicluster-runtime/pkg/reconcile"

	flinkv1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/sharding"
	"github.com/flink-hub/flink-hub/internal/sharding/shardkey"
)

// ownsSet is a Gate that owns a fixed set of keys.
type ownsSet map[string]bool

func (o ownsSet) Owns(key string) bool { return o[key] }
func (o ownsSet) Begin(ctx context.Context, key string) (context.Context, func(error), bool) {
	return ctx, func(error) {}, o[key]
}
func (o ownsSet) ShardOf(key string) int { return sharding.ShardOf(key, 64) }
func (o ownsSet) OnAcquire(func(int))    {}

func TestEnqueueOnlyOwnedKeys(t *testing.T) {
	gate := ownsSet{shardkey.Key{Cluster: "member-1", Namespace: "apps", Name: "mine"}.String(): true}
	h := Enqueue(gate)("member-1", nil)
	q := workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[mcreconcile.Request]())
	defer q.ShutDown()
	fd := func(name string) client.Object {
		return &flinkv1beta1.FlinkDeployment{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: name}}
	}
	ctx := context.Background()
	for _, name := range []string{"mine", "theirs"} {
		h.Create(ctx, event.TypedCreateEvent[client.Object]{Object: fd(name)}, q)
		h.Update(ctx, event.TypedUpdateEvent[client.Object]{ObjectOld: fd(name), ObjectNew: fd(name)}, q)
		h.Delete(ctx, event.TypedDeleteEvent[client.Object]{Object: fd(name)}, q)
		h.Generic(ctx, event.TypedGenericEvent[client.Object]{Object: fd(name)}, q)
	}
	if q.Len() != 1 {
		t.Fatalf("queue holds %d requests, want the one owned key", q.Len())
	}
	req, _ := q.Get()
	if req.ClusterName != "member-1" || req.Namespace != "apps" || req.Name != "mine" {
		t.Fatalf("enqueued %v, want member-1/apps/mine", req)
	}
}

// TestTakeoverKeysGoFirst: the keys of a shard just acquired are served
// before work queued earlier at the default priority; a queue without
// priorities still gets them.
func TestTakeoverKeysGoFirst(t *testing.T) {
	pq := priorityqueue.New[mcreconcile.Request]("takeover-test")
	defer pq.ShutDown()
	waiting := []mcreconcile.Request{request("member-1", types.NamespacedName{Namespace: "apps", Name: "periodic-1"}), request("member-1", types.NamespacedName{Namespace: "apps", Name: "periodic-2"})}
	for _, r := range waiting {
		pq.Add(r)
	}
	moved := request("member-2", types.NamespacedName{Namespace: "apps", Name: "moved"})
	addWithPriority(pq, TakeoverPriority, moved)
	got, priority, _ := pq.GetWithPriority()
	if got != moved || priority != TakeoverPriority {
		t.Fatalf("first out: %v at priority %d, want %v at %d", got, priority, moved, TakeoverPriority)
	}

	plain := workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[mcreconcile.Request]())
	defer plain.ShutDown()
	addWithPriority(plain, TakeoverPriority, moved)
	if got, _ := plain.Get(); got != moved {
		t.Fatalf("plain queue gave %v, want %v", got, moved)
	}
}

// storeCache is a cache whose FlinkDeployment informer holds objs in its
// store; List fails, so a caller that lists instead of reading the
// informer's keys is caught.
type storeCache struct {
	cache.Cache
	informer toolscache.SharedIndexInformer
}

func (c storeCache) GetInformerForKind(_ context.Context, gvk schema.GroupVersionKind, _ ...cache.InformerGetOption) (cache.Informer, error) {
	if gvk.Kind != "FlinkDeployment" {
		return nil, fmt.Errorf("no informer for %s", gvk)
	}
	return c.informer, nil
}

func (c storeCache) List(context.Context, client.ObjectList, ...client.ListOption) error {
	return errors.New("listed the objects instead of reading the informer's keys")
}

// storeCluster is a cluster with a storeCache.
type storeCluster struct {
	cluster.Cluster
	cache storeCache
}

func (c storeCluster) GetCache() cache.Cache      { return c.cache }
func (c storeCluster) GetScheme() *runtime.Scheme { return scheme }

var scheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	if err := flinkv1beta1.AddToScheme(s); err != nil {
		panic(err)
	}
	return s
}()

// TestCachedNamesReadsTheInformersKeys: the names of a shard's objects
// come from the informer's keys, without copying the cached objects.
func TestCachedNamesReadsTheInformersKeys(t *testing.T) {
	inf := toolscache.NewSharedIndexInformer(&toolscache.ListWatch{}, &flinkv1beta1.FlinkDeployment{}, 0, toolscache.Indexers{})
	want := []types.NamespacedName{{Namespace: "apps", Name: "a"}, {Namespace: "team-b", Name: "b"}}
	for _, nn := range want {
		if err := inf.GetStore().Add(&flinkv1beta1.FlinkDeployment{ObjectMeta: metav1.ObjectMeta{Namespace: nn.Namespace, Name: nn.Name}}); err != nil {
			t.Fatal(err)
		}
	}
	r := NewRequeuer(ownsSet{}, "", func() client.ObjectList { return &flinkv1beta1.FlinkDeploymentList{} })
	got, err := r.cachedNames(context.Background(), storeCluster{cache: storeCache{informer: inf}})
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(got, func(a, b types.NamespacedName) int { return strings.Compare(a.String(), b.String()) })
	if !slices.Equal(got, want) {
		t.Fatalf("cachedNames = %v, want %v", got, want)
	}
}

// acquireGate is a Gate whose shard acquisitions the test triggers; it
// owns every key.
type acquireGate struct{ onAcquire func(int) }

func (g *acquireGate) Owns(string) bool { return true }
func (g *acquireGate) Begin(ctx context.Context, _ string) (context.Context, func(error), bool) {
	return ctx, func(error) {}, true
}
func (g *acquireGate) ShardOf(key string) int       { return sharding.ShardOf(key, 64) }
func (g *acquireGate) OnAcquire(fn func(int))       { g.onAcquire = fn }
func (c readerCluster) GetAPIReader() client.Reader { return c.reader }

// readerCluster is a storeCluster with a live reader of its own.
type readerCluster struct {
	storeCluster
	reader client.Reader
}

// prefetches records Prefetch calls and whether the shard's keys were
// queued when each came.
type prefetches struct {
	q     queue
	calls []string
}

func (p *prefetches) Prefetch(member string, reader client.Reader, namespace string) {
	p.calls = append(p.calls, fmt.Sprintf("%s/%s reader=%v queued=%d", member, namespace, reader, p.q.Len()))
}

// namedReader is a client.Reader that says which member it reads.
type namedReader struct {
	client.Reader
	name string
}

func (r namedReader) String() string { return r.name }

// TestAcquisitionPrefetchesTheShardsNamespaces: when a shard is acquired,
// each member namespace holding its keys is prefetched once, through that
// member's live reader, before any of the keys is queued.
func TestAcquisitionPrefetchesTheShardsNamespaces(t *testing.T) {
	gate := &acquireGate{}
	p := &prefetches{}
	r := NewRequeuer(gate, "", func() client.ObjectList { return &flinkv1beta1.FlinkDeploymentList{} }, WithPrefetch(p))
	q := workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[mcreconcile.Request]())
	defer q.ShutDown()
	p.q = q
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := r.Source().Start(ctx, q); err != nil {
		t.Fatal(err)
	}
	// The acquired shard holds two keys of member-1/apps, one of
	// member-1/team-b and one of member-2/apps; member-1/team-c holds only
	// a key of another shard.
	shard := sharding.ShardOf(shardkey.Key{Cluster: "member-1", Namespace: "apps", Name: "a"}.String(), 64)
	inShard := func(member, namespace string, other bool) types.NamespacedName {
		for i := 0; ; i++ {
			name := fmt.Sprintf("fd-%d", i)
			if s := sharding.ShardOf(shardkey.Key{Cluster: member, Namespace: namespace, Name: name}.String(), 64); (s == shard) != other {
				return types.NamespacedName{Namespace: namespace, Name: name}
			}
		}
	}
	members := map[string][]types.NamespacedName{
		"member-1": {{Namespace: "apps", Name: "a"}, inShard("member-1", "apps", false), inShard("member-1", "team-b", false), inShard("member-1", "team-c", true)},
		"member-2": {inShard("member-2", "apps", false)},
	}
	want, queued := map[string]bool{}, 0
	for member, nns := range members {
		inf := toolscache.NewSharedIndexInformer(&toolscache.ListWatch{}, &flinkv1beta1.FlinkDeployment{}, 0, toolscache.Indexers{})
		for _, nn := range nns {
			if err := inf.GetStore().Add(&flinkv1beta1.FlinkDeployment{ObjectMeta: metav1.ObjectMeta{Namespace: nn.Namespace, Name: nn.Name}}); err != nil {
				t.Fatal(err)
			}
			if sharding.ShardOf(shardkey.Key{Cluster: member, Namespace: nn.Namespace, Name: nn.Name}.String(), 64) == shard {
				want[fmt.Sprintf("%s/%s reader=%s queued=0", member, nn.Namespace, member)] = true
				queued++
			}
		}
		cl := readerCluster{storeCluster: storeCluster{cache: storeCache{informer: inf}}, reader: namedReader{name: member}}
		if err := r.Engage(ctx, multicluster.ClusterName(member), cl); err != nil {
			t.Fatal(err)
		}
	}
	gate.onAcquire(shard)
	slices.Sort(p.calls)
	if got := slices.Sorted(maps.Keys(want)); !slices.Equal(p.calls, got) {
		t.Fatalf("prefetched %v, want %v (once per member namespace, before the keys are queued)", p.calls, got)
	}
	if len(want) != 3 || queued != 4 {
		t.Fatalf("the test's keys: %d namespaces and %d keys in the shard, want 3 and 4", len(want), queued)
	}
	if q.Len() != queued {
		t.Fatalf("%d keys queued, want the shard's %d", q.Len(), queued)
	}
}
