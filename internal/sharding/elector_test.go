package sharding

import (
	"context"
	"errors"
	"fmt"
	"github.com/flink-hub/flink-hub/internal/sharding/shardlease"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	coordinationlisters "k8s.io/client-go/listers/coordination/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"

	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/sharding/handoff"
)

const (
	testLease = 2 * time.Second
	testRenew = 1 * time.Second
	testRetry = 300 * time.Millisecond
)

type running struct {
	*Elector
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
	err    error
}

func clientFor(t *testing.T, cfg *rest.Config) kubernetes.Interface {
	t.Helper()
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = 200, 400
	c, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newNamespace(t *testing.T) string {
	t.Helper()
	ns := strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name()))
	if len(ns) > 50 {
		ns = ns[:50]
	}
	ns = strings.TrimRight(ns, "-")
	if err := hub.CreateNamespace(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
	return ns
}

func start(t *testing.T, cfg *rest.Config, ns, id string, opts ...Option) *running {
	t.Helper()
	opts = append([]Option{WithTimings(testLease, testRenew, testRetry), WithLogger(testr.New(t))}, opts...)
	e, err := New(clientFor(t, cfg), ns, id, opts...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{Elector: e, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- e.Run(ctx) }()
	t.Cleanup(func() { _ = r.stop() })
	return r
}

// stop ends Run gracefully and returns its error.
func (r *running) stop() error {
	r.once.Do(func() {
		r.cancel()
		r.err = <-r.done
	})
	return r.err
}

func eventually(t *testing.T, timeout time.Duration, cond func() error) {
	t.Helper()
	framework.AwaitWithin(t, timeout, "condition", cond)
}

// exactlyOnce checks that every shard is owned by exactly one elector and,
// if each is set, that every elector owns at least one.
func exactlyOnce(shards int, each bool, es ...*running) error {
	owner := make([]string, shards)
	for _, e := range es {
		mine := e.OwnedShards()
		if each && len(mine) == 0 {
			return fmt.Errorf("%s owns no shard", e.Identity())
		}
		for _, k := range mine {
			if owner[k] != "" {
				return fmt.Errorf("shard %d owned by %s and %s", k, owner[k], e.Identity())
			}
			owner[k] = e.Identity()
		}
	}
	for k, o := range owner {
		if o == "" {
			return fmt.Errorf("shard %d has no owner", k)
		}
	}
	return nil
}

func TestElectorsShareShardsAndHandOffOnShutdown(t *testing.T) {
	ns := newNamespace(t)
	a := start(t, hub.Config, ns, "a", WithShards(16))
	b := start(t, hub.Config, ns, "b", WithShards(16))
	c := start(t, hub.Config, ns, "c", WithShards(16))
	eventually(t, 20*time.Second, func() error { return exactlyOnce(16, true, a, b, c) })
	for _, e := range []*running{a, b, c} {
		if err := e.Ready(); err != nil {
			t.Errorf("%s not ready: %v", e.Identity(), err)
		}
	}
	// The fence Leases name the owners.
	cs := clientFor(t, hub.Config)
	for _, e := range []*running{a, b, c} {
		for _, k := range e.OwnedShards() {
			l, err := cs.CoordinationV1().Leases(ns).Get(context.Background(), shardlease.ShardLeaseName(k), metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if shardlease.Holder(l) != e.Identity() {
				t.Errorf("fence of shard %d names %q, %s owns it", k, shardlease.Holder(l), e.Identity())
			}
		}
	}
	// Every replica's cache names the same holders.
	eventually(t, 5*time.Second, func() error {
		for _, e := range []*running{a, b, c} {
			h := e.Holders()
			for _, o := range []*running{a, b, c} {
				for _, k := range o.OwnedShards() {
					if h[k] != o.Identity() {
						return fmt.Errorf("%s sees shard %d held by %q, %s owns it", e.Identity(), k, h[k], o.Identity())
					}
				}
			}
		}
		return nil
	})
	if err := c.stop(); err != nil {
		t.Fatalf("graceful stop: %v", err)
	}
	if _, err := cs.CoordinationV1().Leases(ns).Get(context.Background(), shardlease.PeerLeaseName("c"), metav1.GetOptions{}); err == nil {
		t.Error("peer lease of c still exists after a graceful stop")
	}
	// Handoff does not wait for the lease duration: released fences are
	// taken at once. The bound here is generous; the benchmark measures.
	stopped := time.Now()
	eventually(t, testLease, func() error { return exactlyOnce(16, true, a, b) })
	t.Logf("handoff after graceful stop took %v", time.Since(stopped))
}

func TestFenceExpiryJudgedOnLocalClock(t *testing.T) {
	ns := newNamespace(t)
	cs := clientFor(t, hub.Config)
	// Two fences held by a dead replica: one renewed "in 2000", one "in
	// 3000". Neither timestamp may matter: the lease expires a lease
	// duration after this replica last saw it change.
	for shard, renew := range map[int]time.Time{0: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), 1: time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)} {
		l := &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: shardlease.ShardLeaseName(shard), Labels: map[string]string{shardlease.RoleLabel: shardlease.RoleShard}},
			Spec: coordinationv1.LeaseSpec{
				HolderIdentity:       ptr.To("ghost"),
				LeaseDurationSeconds: ptr.To(int32(1)), // shorter than ours: ours counts
				RenewTime:            &metav1.MicroTime{Time: renew},
			},
		}
		if _, err := cs.CoordinationV1().Leases(ns).Create(context.Background(), l, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	began := time.Now()
	e := start(t, hub.Config, ns, "solo", WithShards(2))
	var firstOwned time.Time
	eventually(t, 4*testLease, func() error {
		owned := e.OwnedShards()
		if firstOwned.IsZero() && len(owned) > 0 {
			firstOwned = time.Now()
		}
		if len(owned) < 2 {
			return fmt.Errorf("owns %v", owned)
		}
		return nil
	})
	if early := firstOwned.Sub(began); early < testLease {
		t.Fatalf("took over a ghost's fence after %v, before the lease duration %v had passed on the local clock", early, testLease)
	}
}

func TestStopsBeforeExpiryWhenHubUnreachableAndRecovers(t *testing.T) {
	ns := newNamespace(t)
	proxy, cfg := proxiedHub(t, testRetry)
	e := start(t, cfg, ns, "cut", WithShards(4))
	var mu sync.Mutex
	acquired := map[int]int{}
	e.OnAcquire(func(k int) { mu.Lock(); acquired[k]++; mu.Unlock() })
	eventually(t, 10*time.Second, func() error { return exactlyOnce(4, true, e) })
	key := "m/ns/x"
	first, doneFirst, ok := e.Begin(context.Background(), key)
	if !ok {
		t.Fatal("Begin refused a key of an owned shard")
	}
	if !handoff.First(first) {
		t.Error("the first reconcile of a key since its shard was acquired is not marked first")
	}
	doneFirst(nil)
	rctx, done, ok := e.Begin(context.Background(), key)
	if !ok || handoff.First(rctx) {
		t.Errorf("a second reconcile of the key: admitted %v, marked first %v; want admitted, not first", ok, handoff.First(rctx))
	}
	defer done(nil)

	proxy.setCut(true)
	cut := time.Now()
	eventually(t, testLease, func() error {
		if n := len(e.OwnedShards()); n > 0 {
			return fmt.Errorf("still owns %d shards", n)
		}
		if rctx.Err() == nil {
			return errors.New("in-flight reconcile context not cancelled")
		}
		return nil
	})
	// Safety: other replicas may take the fences a lease duration after
	// the last renewal, which was before the cut.
	if lost := time.Since(cut); lost >= testLease {
		t.Fatalf("stopped reconciling %v after losing the hub, not before the lease duration %v", lost, testLease)
	}
	if e.Ready() == nil {
		t.Error("Ready while the hub is unreachable")
	}
	if _, _, ok := e.Begin(context.Background(), key); ok {
		t.Error("Begin admitted a reconcile without a valid fence")
	}

	proxy.setCut(false)
	eventually(t, 15*time.Second, func() error { return exactlyOnce(4, true, e) })
	eventually(t, 5*time.Second, func() error {
		mu.Lock()
		defer mu.Unlock()
		for k := range 4 {
			if acquired[k] < 2 {
				return fmt.Errorf("shard %d announced %d times, want a second time after regaining it", k, acquired[k])
			}
		}
		return nil
	})
	// Other replicas may have written the key while this one had lost it.
	regained, doneRegained, ok := e.Begin(context.Background(), key)
	if !ok || !handoff.First(regained) {
		t.Errorf("the first reconcile after regaining the shard: admitted %v, marked first %v; want both", ok, handoff.First(regained))
	}
	doneRegained(nil)
}

func TestDuplicateIdentityRefused(t *testing.T) {
	ns := newNamespace(t)
	first := start(t, hub.Config, ns, "twin", WithShards(4))
	eventually(t, 10*time.Second, func() error { return exactlyOnce(4, true, first) })
	second := start(t, hub.Config, ns, "twin", WithShards(4))
	select {
	case err := <-second.done:
		second.once.Do(func() {})
		if !errors.Is(err, ErrDuplicateIdentity) {
			t.Fatalf("second replica with the same identity: got %v, want ErrDuplicateIdentity", err)
		}
		if !strings.Contains(err.Error(), "twin") {
			t.Errorf("error does not name the lease: %v", err)
		}
	case <-time.After(3 * testLease):
		t.Fatal("second replica with the same identity did not refuse to start")
	}
	if err := exactlyOnce(4, true, first); err != nil {
		t.Fatalf("first replica disturbed: %v", err)
	}
}

func TestStalePeerLeaseOfSameIdentityTakenOver(t *testing.T) {
	ns := newNamespace(t)
	cs := clientFor(t, hub.Config)
	stale := &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: shardlease.PeerLeaseName("restarted"), Labels: map[string]string{shardlease.RoleLabel: shardlease.RolePeer},
			Annotations: map[string]string{shardlease.ShardsAnnotation: "4"}},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To("restarted"), LeaseDurationSeconds: ptr.To(int32(2))},
	}
	if _, err := cs.CoordinationV1().Leases(ns).Create(context.Background(), stale, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	e := start(t, hub.Config, ns, "restarted", WithShards(4))
	eventually(t, 10*time.Second, func() error { return exactlyOnce(4, true, e) })
}

func TestShutdownReleasesIdleShardsWhileOthersDrain(t *testing.T) {
	ns := newNamespace(t)
	// A long drain timeout: the busy shard may be held for seconds, the
	// idle ones must not wait for it.
	e := start(t, hub.Config, ns, "leaving", WithShards(4), WithTimings(10*time.Second, 7*time.Second, testRetry), WithDrainTimeout(6*time.Second))
	eventually(t, 10*time.Second, func() error { return exactlyOnce(4, true, e) })
	key := ""
	for i := 0; key == ""; i++ {
		if k := fmt.Sprintf("m/ns/fd-%d", i); ShardOf(k, 4) == 2 {
			key = k
		}
	}
	_, done, ok := e.Begin(context.Background(), key)
	if !ok {
		t.Fatal("Begin refused a key of an owned shard")
	}
	e.cancel() // SIGTERM
	cs := clientFor(t, hub.Config)
	holders := func() map[int]string {
		h := map[int]string{}
		for k := range 4 {
			l, err := cs.CoordinationV1().Leases(ns).Get(context.Background(), shardlease.ShardLeaseName(k), metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			h[k] = shardlease.Holder(l)
		}
		return h
	}
	eventually(t, 5*time.Second, func() error {
		if _, end, ok := e.Begin(context.Background(), "m/ns/other"); ok {
			end(nil)
			return errors.New("a stopping replica admitted a reconcile")
		}
		if h := holders(); h[0] != "" || h[1] != "" || h[3] != "" || h[2] != "leaving" {
			return fmt.Errorf("holders %v: want shards 0, 1, 3 released and 2 held while its reconcile runs", h)
		}
		// The others reassign the shards while this one drains.
		if _, err := cs.CoordinationV1().Leases(ns).Get(context.Background(), shardlease.PeerLeaseName("leaving"), metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			return fmt.Errorf("peer lease of a draining replica: %v, want it deleted before the drain ends", err)
		}
		return nil
	})
	done(nil)
	if err := e.stop(); err != nil {
		t.Fatal(err)
	}
	if h := holders(); h[2] != "" {
		t.Fatalf("shard 2 still held by %q after its reconcile ended and the replica stopped", h[2])
	}
}

func TestRenewalDue(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct {
		name         string
		renew, retry time.Duration
		renewedAgo   time.Duration
		want         bool
	}{
		{name: "just renewed", renew: 7 * time.Second, retry: 2 * time.Second, renewedAgo: 100 * time.Millisecond, want: false},
		{name: "renewed half a retry period ago", renew: 7 * time.Second, retry: 2 * time.Second, renewedAgo: time.Second, want: true},
		{name: "renewed a retry period ago", renew: 7 * time.Second, retry: 2 * time.Second, renewedAgo: 2 * time.Second, want: true},
		// Little slack between retry period and renew deadline: the
		// fresh window shrinks so renewals stay inside the deadline.
		{name: "tight: within half the slack", renew: 2 * time.Second, retry: 1800 * time.Millisecond, renewedAgo: 50 * time.Millisecond, want: false},
		{name: "tight: past half the slack", renew: 2 * time.Second, retry: 1800 * time.Millisecond, renewedAgo: 150 * time.Millisecond, want: true},
		{name: "never renewed", renew: 7 * time.Second, retry: 2 * time.Second, renewedAgo: 1000 * time.Hour, want: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := &Elector{opts: Options{RenewDeadline: tc.renew, RetryPeriod: tc.retry}}
			validUntil := now.Add(-tc.renewedAgo).Add(tc.renew)
			if got := e.renewalDue(validUntil, now); got != tc.want {
				t.Fatalf("renewalDue = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestNextExpiry(t *testing.T) {
	now := time.Now()
	const ours = 10 * time.Second
	lease := func(name, role, holder, rv string, seconds int32) *coordinationv1.Lease {
		l := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", ResourceVersion: rv, Labels: map[string]string{shardlease.RoleLabel: role}},
			Spec: coordinationv1.LeaseSpec{LeaseDurationSeconds: ptr.To(seconds)}}
		if holder != "" {
			l.Spec.HolderIdentity = ptr.To(holder)
		}
		return l
	}
	seenAgo := func(rv string, ago time.Duration) observation {
		return observation{resourceVersion: rv, at: now.Add(-ago)}
	}
	for _, tc := range []struct {
		name   string
		leases []*coordinationv1.Lease
		seen   map[string]observation
		want   time.Duration
		found  bool
	}{
		{name: "no leases"},
		{name: "a peer expires after its own duration",
			leases: []*coordinationv1.Lease{lease("peer-b", shardlease.RolePeer, "b", "1", 4)},
			seen:   map[string]observation{"peer-b": seenAgo("1", time.Second)},
			want:   3 * time.Second, found: true},
		{name: "a fence after at least our lease duration",
			leases: []*coordinationv1.Lease{lease("shard-1", shardlease.RoleShard, "b", "1", 4)},
			seen:   map[string]observation{"shard-1": seenAgo("1", time.Second)},
			want:   9 * time.Second, found: true},
		{name: "the soonest of several",
			leases: []*coordinationv1.Lease{lease("shard-1", shardlease.RoleShard, "b", "1", 10), lease("shard-2", shardlease.RoleShard, "c", "1", 10)},
			seen:   map[string]observation{"shard-1": seenAgo("1", 2*time.Second), "shard-2": seenAgo("1", 9*time.Second)},
			want:   time.Second, found: true},
		{name: "ours, free, expired, unseen and stale leases do not count",
			leases: []*coordinationv1.Lease{
				lease("shard-1", shardlease.RoleShard, "a", "1", 10), lease("shard-2", shardlease.RoleShard, "", "1", 10),
				lease("shard-3", shardlease.RoleShard, "b", "1", 10), lease("shard-4", shardlease.RoleShard, "b", "1", 10),
				lease("shard-5", shardlease.RoleShard, "b", "2", 10), lease("peer-c", shardlease.RolePeer, "c", "1", 0),
			},
			seen: map[string]observation{"shard-1": seenAgo("1", time.Second), "shard-2": seenAgo("1", time.Second),
				"shard-3": seenAgo("1", 11*time.Second), "shard-5": seenAgo("1", time.Second), "peer-c": seenAgo("1", time.Second)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			idx := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
			for _, l := range tc.leases {
				if err := idx.Add(l); err != nil {
					t.Fatal(err)
				}
			}
			e := &Elector{id: "a", opts: Options{LeaseDuration: ours}, seen: tc.seen,
				lister: coordinationlisters.NewLeaseLister(idx).Leases("ns")}
			got, found := e.nextExpiry(now)
			if got != tc.want || found != tc.found {
				t.Fatalf("nextExpiry = %v, %v; want %v, %v", got, found, tc.want, tc.found)
			}
		})
	}
}
