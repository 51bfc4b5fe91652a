package sharding

import (
	"context"
	"errors"
	"fmt"
	"github.com/flink-hub/flink-hub/internal/sharding/shardlease"
	"slices"
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/flink-hub/flink-hub/internal/sharding/shardkey"
)

// keepRenewing updates the Leases every retry period until the test ends,
// so they look alive to anyone who trusts them.
func keepRenewing(t *testing.T, cs kubernetes.Interface, ns string, leases []*coordinationv1.Lease) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	for _, l := range leases {
		l.Namespace = ns
		if _, err := cs.CoordinationV1().Leases(ns).Create(ctx, l, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create %s: %v", l.Name, err)
		}
	}
	go func() {
		defer close(done)
		for i := 0; ctx.Err() == nil; i++ {
			for _, l := range leases {
				cur, err := cs.CoordinationV1().Leases(ns).Get(ctx, l.Name, metav1.GetOptions{})
				if err != nil {
					continue
				}
				cur.Spec.LeaseTransitions = ptr.To(int32(i))
				_, _ = cs.CoordinationV1().Leases(ns).Update(ctx, cur, metav1.UpdateOptions{})
			}
			select {
			case <-ctx.Done():
			case <-time.After(testRetry):
			}
		}
	}()
}

func peerLease(name, holder string, annotations map[string]string, seconds *int32) *coordinationv1.Lease {
	return &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{shardlease.RoleLabel: shardlease.RolePeer}, Annotations: annotations},
		Spec:       coordinationv1.LeaseSpec{HolderIdentity: ptr.To(holder), LeaseDurationSeconds: seconds},
	}
}

func TestGarbagePeerLeasesIgnored(t *testing.T) {
	ns := newNamespace(t)
	cs := clientFor(t, hub.Config)
	two := ptr.To(int32(2))
	garbage := []*coordinationv1.Lease{
		peerLease(shardlease.PeerLeaseName("name-mismatch"), "someone-else", map[string]string{shardlease.ShardsAnnotation: "8"}, two),
		peerLease(shardlease.PeerLeaseName("no-shards"), "no-shards", nil, two),
		peerLease(shardlease.PeerLeaseName("banana"), "banana", map[string]string{shardlease.ShardsAnnotation: "banana"}, two),
		peerLease(shardlease.PeerLeaseName("negative-weight"), "negative-weight", map[string]string{shardlease.ShardsAnnotation: "8", shardlease.WeightAnnotation: "-3"}, two),
		peerLease(shardlease.PeerLeaseName("huge-weight"), "huge-weight", map[string]string{shardlease.ShardsAnnotation: "8", shardlease.WeightAnnotation: "1e300"}, two),
		peerLease(shardlease.PeerLeaseName("no-duration"), "no-duration", map[string]string{shardlease.ShardsAnnotation: "8"}, nil),
		peerLease(shardlease.PeerLeaseName("forever"), "forever", map[string]string{shardlease.ShardsAnnotation: "8"}, ptr.To(int32(1<<30))),
	}
	keepRenewing(t, cs, ns, garbage)
	e := start(t, hub.Config, ns, "honest", WithShards(8))
	// Had any garbage Lease been trusted as a live peer, it would keep
	// some shards assigned away from the only real replica forever.
	eventually(t, 10*time.Second, func() error { return exactlyOnce(8, true, e) })
	if err := e.Ready(); err != nil {
		t.Fatalf("garbage peers made the replica unready: %v", err)
	}
}

func TestShardCountMismatchRefusesOwnership(t *testing.T) {
	ns := newNamespace(t)
	a := start(t, hub.Config, ns, "sixteen", WithShards(16))
	eventually(t, 10*time.Second, func() error { return exactlyOnce(16, true, a) })
	// A peer with another S that joined anyway (a replica of a version
	// before the fleet's shard count was recorded): a refuses to own
	// anything while it lives, as both views of which shard a key is in
	// cannot be trusted at once.
	keepRenewing(t, clientFor(t, hub.Config), ns, []*coordinationv1.Lease{
		peerLease(shardlease.PeerLeaseName("thirty-two"), "thirty-two", map[string]string{shardlease.ShardsAnnotation: "32"}, ptr.To(int32(2))),
	})
	eventually(t, 10*time.Second, func() error {
		if n := len(a.OwnedShards()); n > 0 {
			return fmt.Errorf("the S=16 replica still owns %d shards beside an S=32 peer", n)
		}
		if err := a.Ready(); err == nil || !strings.Contains(err.Error(), "32 shards") {
			return fmt.Errorf("readiness of the S=16 replica does not name the mismatch: %v", err)
		}
		return nil
	})
	if got := gaugeValue(t, configMismatch); got != 1 {
		t.Errorf("flinkhub_sharding_config_mismatch = %v, want 1", got)
	}
}

// TestReplicaWithAnotherShardCountExits: the first replica records the
// fleet's S; one started with another --shards (a rolling update that
// changes it) exits with a message saying what to do, and the fleet keeps
// owning every shard meanwhile.
func TestReplicaWithAnotherShardCountExits(t *testing.T) {
	ns := newNamespace(t)
	a := start(t, hub.Config, ns, "sixteen", WithShards(16))
	eventually(t, 10*time.Second, func() error { return exactlyOnce(16, true, a) })
	b := start(t, hub.Config, ns, "thirty-two", WithShards(32))
	var err error
	select {
	case err = <-b.done:
	case <-time.After(time.Minute):
		t.Fatal("the S=32 replica did not exit")
	}
	b.once.Do(func() { b.err = err })
	if !errors.Is(err, ErrShardCount) || !strings.Contains(err.Error(), `"16" shards`) || !strings.Contains(err.Error(), "--shards=32") {
		t.Fatalf("the S=32 replica ended with %v, want ErrShardCount naming both counts", err)
	}
	if _, gerr := clientFor(t, hub.Config).CoordinationV1().Leases(ns).Get(context.Background(), shardlease.PeerLeaseName("thirty-two"), metav1.GetOptions{}); gerr == nil {
		t.Error("the S=32 replica joined the election before exiting")
	}
	if err := exactlyOnce(16, true, a); err != nil {
		t.Fatal(err)
	}
	if err := a.Ready(); err != nil {
		t.Fatalf("the fleet is not ready beside a replica with another S: %v", err)
	}
}

func TestHandoffWaitsForInflightReconcile(t *testing.T) {
	ns := newNamespace(t)
	const s = 8
	a := start(t, hub.Config, ns, "old-owner", WithShards(s), WithDrainTimeout(testRenew/2))
	eventually(t, 10*time.Second, func() error { return exactlyOnce(s, true, a) })
	key := keyMovingToNewcomer(s)
	rctx, done, ok := a.Begin(context.Background(), key)
	if !ok {
		t.Fatal("Begin refused an owned key")
	}
	b := start(t, hub.Config, ns, "newcomer", WithShards(s), WithDrainTimeout(testRenew/2))
	// Other moving shards change hands; the busy one does not until done.
	eventually(t, 10*time.Second, func() error {
		if a.Owns(key) {
			return fmt.Errorf("old owner still admits %s while handing it off", key)
		}
		if len(b.OwnedShards()) == 0 {
			return fmt.Errorf("newcomer owns nothing yet")
		}
		return nil
	})
	if b.Owns(key) {
		t.Fatal("newcomer owns a shard whose reconcile is still in flight on the old owner")
	}
	// Past the drain timeout the straggler is asked to stop.
	eventually(t, 5*time.Second, func() error { return cancelled(rctx) })
	if b.Owns(key) {
		t.Fatal("newcomer owns the shard before the straggler finished")
	}
	done(nil)
	eventually(t, 5*time.Second, func() error {
		if !b.Owns(key) {
			return fmt.Errorf("newcomer does not own %s after the old owner finished", key)
		}
		return exactlyOnce(s, true, a, b)
	})
}

// cutAndSurvivor starts two replicas with opts in a new namespace: cutID
// talks to the hub through a proxy the test can cut (timeout bounds each
// of its requests), "survivor" directly.
func cutAndSurvivor(t *testing.T, cutID string, timeout time.Duration, opts ...Option) (proxy *tcpProxy, cut, survivor *running) {
	t.Helper()
	ns := newNamespace(t)
	proxy, cfg := proxiedHub(t, timeout)
	cut = start(t, cfg, ns, cutID, opts...)
	survivor = start(t, hub.Config, ns, "survivor", opts...)
	return proxy, cut, survivor
}

// TestPartitionedOwnerStopsBeforeTakeover cuts one replica off the hub (it
// cannot release anything, as after a crash) and checks that the other
// takes its shards only after the cut one stopped admitting them.
func TestPartitionedOwnerStopsBeforeTakeover(t *testing.T) {
	const s = 8
	proxy, cut, other := cutAndSurvivor(t, "partitioned", testRetry, WithShards(s))
	// Settled: each replica owns about its half.
	eventually(t, 20*time.Second, func() error {
		if err := exactlyOnce(s, true, cut, other); err != nil {
			return err
		}
		if n, m := len(cut.OwnedShards()), len(other.OwnedShards()); n < s/4 || m < s/4 {
			return fmt.Errorf("owned %d and %d shards, still handing off", n, m)
		}
		return nil
	})
	lost := cut.OwnedShards()

	gapsBefore := histogramCount(t, unownedSeconds)
	proxy.setCut(true)
	var cutStopped, takenOver time.Time
	eventually(t, 4*testLease, func() error {
		now := time.Now()
		if cutStopped.IsZero() && len(cut.OwnedShards()) == 0 {
			cutStopped = now
		}
		mine := map[int]bool{}
		for _, k := range other.OwnedShards() {
			mine[k] = true
		}
		for _, k := range lost {
			if mine[k] && takenOver.IsZero() {
				takenOver = now
			}
			if !mine[k] {
				return fmt.Errorf("shard %d not taken over yet", k)
			}
		}
		return nil
	})
	if cutStopped.IsZero() || !cutStopped.Before(takenOver) {
		t.Fatalf("the partitioned replica stopped at %v, the survivor took over at %v: both owned shards at once",
			cutStopped.Format(time.StampMilli), takenOver.Format(time.StampMilli))
	}
	if got := histogramCount(t, unownedSeconds) - gapsBefore; got < uint64(len(lost)) {
		t.Errorf("flinkhub_sharding_shard_unowned_seconds counted %d gaps, want %d", got, len(lost))
	}
	for _, k := range lost {
		// The survivor saw the fence unchanged for a lease duration first.
		if got := gaugeValue(t, shardUnowned.WithLabelValues(fmt.Sprint(k))); got < testLease.Seconds() {
			t.Errorf("shard %d: last unowned %.2fs, want at least the lease duration %v", k, got, testLease)
		}
	}
}

// TestDeadReplicaShardsTakenAtExpiry cuts a replica off and checks that
// the survivor takes its shards as soon as its Leases expire on the
// survivor's clock, not at the survivor's next retry period: with a retry
// period of 4 s, a survivor that only looked on its ticks would be up to
// 4 s late.
func TestDeadReplicaShardsTakenAtExpiry(t *testing.T) {
	const lease, renew, retry = 10 * time.Second, 5500 * time.Millisecond, 4 * time.Second
	const s, late = 8, 1200 * time.Millisecond
	proxy, cut, other := cutAndSurvivor(t, "dead", retry, WithShards(s), WithTimings(lease, renew, retry))
	eventually(t, 30*time.Second, func() error { return exactlyOnce(s, true, cut, other) })
	lost := cut.OwnedShards()
	proxy.setCut(true)

	// The dead replica's Leases expire, on the survivor's clock, a lease
	// duration after the survivor last saw each change while the dead
	// replica held it (the takeover's own writes change the fences too).
	dead := []string{shardlease.PeerLeaseName("dead")}
	for _, k := range lost {
		dead = append(dead, shardlease.ShardLeaseName(k))
	}
	expiry := map[string]time.Time{}
	var takenOver time.Time
	eventually(t, 3*lease, func() error {
		now := time.Now()
		other.mu.Lock()
		for _, name := range dead {
			l, err := other.lister.Get(name)
			if o := other.seen[name]; err == nil && shardlease.Holder(l) == "dead" && o.resourceVersion == l.ResourceVersion {
				expiry[name] = o.at.Add(lease)
			}
		}
		other.mu.Unlock()
		mine := map[int]bool{}
		for _, k := range other.OwnedShards() {
			mine[k] = true
		}
		for _, k := range lost {
			if !mine[k] {
				return fmt.Errorf("shard %d not taken over yet", k)
			}
		}
		takenOver = now
		return nil
	})
	var expires time.Time
	for _, name := range dead {
		if expiry[name].IsZero() {
			t.Fatalf("never saw %s held by the dead replica", name)
		}
		if expiry[name].After(expires) {
			expires = expiry[name]
		}
	}
	if takenOver.Before(expires) {
		t.Fatalf("took over at %s, before the Leases expired at %s", takenOver.Format(time.StampMilli), expires.Format(time.StampMilli))
	}
	d := takenOver.Sub(expires)
	t.Logf("took over %v after the Leases expired", d)
	if d > late {
		t.Errorf("took over %v after the dead replica's Leases expired, want within %v (retry period %v)", d, late, retry)
	}
}

// keyInShard is a key the elector maps to shard.
func keyInShard(t *testing.T, e *running, shard int) string {
	t.Helper()
	for i := range 100000 {
		if key := fmt.Sprintf("member/ns/fd-%d", i); e.ShardOf(key) == shard {
			return key
		}
	}
	t.Fatalf("no key for shard %d", shard)
	return ""
}

// TestBlackholedOwnerCancelsReconcilesBeforeTakeover drops, without
// refusing, every packet between one replica and the hub apiserver while
// it has a reconcile in flight on each of its many shards: every one of
// those reconciles is cancelled before the other replica owns its shard,
// although the blackholed replica's renewals hang for their whole timeout.
func TestBlackholedOwnerCancelsReconcilesBeforeTakeover(t *testing.T) {
	const s = 64
	proxy, cut, other := cutAndSurvivor(t, "blackholed", testRetry, WithShards(s))
	eventually(t, 20*time.Second, func() error { return exactlyOnce(s, true, cut, other) })

	type reconcile struct {
		shard     int
		cancelled chan time.Time
		done      func(error)
	}
	var inflight []reconcile
	// On a loaded machine the assignment may still settle after every
	// shard has one owner: begin again until many shards admit one.
	eventually(t, 20*time.Second, func() error {
		for _, r := range inflight {
			r.done(nil) // an earlier attempt's: not to hold back the settling
		}
		inflight = inflight[:0]
		for _, k := range cut.OwnedShards() {
			ctx, done, ok := cut.Begin(context.Background(), keyInShard(t, cut, k))
			if !ok {
				continue // handed off since OwnedShards
			}
			t.Cleanup(func() { done(nil) })
			r := reconcile{shard: k, cancelled: make(chan time.Time, 1), done: done}
			context.AfterFunc(ctx, func() { r.cancelled <- time.Now() })
			inflight = append(inflight, r)
		}
		if len(inflight) < s/4 {
			return fmt.Errorf("only %d shards admitted a reconcile, want many", len(inflight))
		}
		return nil
	})
	proxy.blackhole.Store(true)
	takenOver := map[int]time.Time{}
	eventually(t, 6*testLease, func() error {
		now := time.Now()
		for _, k := range other.OwnedShards() {
			if _, seen := takenOver[k]; !seen {
				takenOver[k] = now
			}
		}
		for _, r := range inflight {
			if _, ok := takenOver[r.shard]; !ok {
				return fmt.Errorf("shard %d not taken over yet", r.shard)
			}
		}
		return nil
	})
	for _, r := range inflight {
		select {
		case at := <-r.cancelled:
			if !at.Before(takenOver[r.shard]) {
				t.Errorf("shard %d: the blackholed replica's reconcile was cancelled at %s, after the survivor owned the shard at %s",
					r.shard, at.Format(time.StampMilli), takenOver[r.shard].Format(time.StampMilli))
			}
		default:
			t.Errorf("shard %d: the blackholed replica's reconcile is still running after the survivor took the shard over", r.shard)
		}
	}
}

// TestDeletedFenceIsNotRetakenWithinALeaseDuration deletes a fence Lease
// while its holder has a reconcile in flight: the holder cancels it, and
// no replica owns the shard again before a lease duration has passed (the
// holder might not have seen the deletion), though one does after.
func TestDeletedFenceIsNotRetakenWithinALeaseDuration(t *testing.T) {
	ns := newNamespace(t)
	const s = 4
	a := start(t, hub.Config, ns, "a", WithShards(s))
	b := start(t, hub.Config, ns, "b", WithShards(s))
	eventually(t, 20*time.Second, func() error { return exactlyOnce(s, true, a, b) })
	k := a.OwnedShards()[0]
	ctx, done, ok := a.Begin(context.Background(), keyInShard(t, a, k))
	if !ok {
		t.Fatalf("shard %d not admitted", k)
	}
	t.Cleanup(func() { done(nil) })

	deleted := time.Now()
	cs := clientFor(t, hub.Config)
	if err := cs.CoordinationV1().Leases(ns).Delete(context.Background(), shardlease.ShardLeaseName(k), metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, testLease, func() error {
		if ctx.Err() == nil {
			return fmt.Errorf("the holder's in-flight reconcile of shard %d is not cancelled", k)
		}
		return nil
	})
	var owned time.Time
	eventually(t, 4*testLease, func() error {
		for _, e := range []*running{a, b} {
			if slices.Contains(e.OwnedShards(), k) {
				owned = time.Now()
				return nil
			}
		}
		return fmt.Errorf("shard %d has no owner yet", k)
	})
	if owned.Sub(deleted) < testLease {
		t.Errorf("shard %d owned again %s after its fence was deleted, before a lease duration (%s)", k, owned.Sub(deleted), testLease)
	}
}

// TestJoinerLeavesOutAPeerThatLapsedBeforeItStarted starts a replica after
// another one died and the survivor took its shards: the newcomer must not
// count the dead replica among the peers for a lease duration of its own
// clock, or the shards the survivor hands it, which the newcomer would
// assign to the dead replica, have no owner meanwhile.
func TestJoinerLeavesOutAPeerThatLapsedBeforeItStarted(t *testing.T) {
	const lease, renew, retry = 8 * time.Second, 4 * time.Second, time.Second
	const s = 16
	opts := []Option{WithShards(s), WithTimings(lease, renew, retry)}
	proxy, dead, survivor := cutAndSurvivor(t, "dead", retry, opts...)
	eventually(t, 30*time.Second, func() error { return exactlyOnce(s, true, dead, survivor) })
	proxy.setCut(true)
	eventually(t, 4*lease, func() error { return exactlyOnce(s, false, survivor) })
	// The dead replica's peer Lease is lapsed by its own renewTime.
	eventually(t, 2*lease, func() error {
		l, err := survivor.lister.Get(shardlease.PeerLeaseName("dead"))
		if err != nil {
			return err
		}
		if !lapsedByItsRenewTime(l, time.Now()) {
			return fmt.Errorf("peer Lease of the dead replica renewed at %s, not lapsed yet", l.Spec.RenewTime.Format(time.StampMilli))
		}
		return nil
	})

	joined := time.Now()
	joiner := start(t, hub.Config, survivor.ns, "joiner", opts...)
	eventually(t, 2*lease, func() error {
		if len(joiner.OwnedShards()) == 0 {
			return errors.New("the joiner owns no shard yet")
		}
		return nil
	})
	for _, p := range joiner.Peers() {
		if p.ID == "dead" {
			t.Fatalf("the joiner counts the dead replica as a peer: %v", joiner.Peers())
		}
	}
	// Every shard has an owner again well before the dead replica's peer
	// Lease would have expired on the joiner's clock.
	eventually(t, 2*lease, func() error { return exactlyOnce(s, true, survivor, joiner) })
	if settled := time.Since(joined); settled >= lease {
		t.Errorf("the shards had owners again %v after the joiner started, not before the dead replica's Lease expired on its clock (%v)", settled, lease)
	}
}

// keyMovingToNewcomer is a key of a shard (of s) that "old-owner" holds
// alone and Assign gives to "newcomer" once it joins.
func keyMovingToNewcomer(s int) string {
	after := Assign([]Member{{ID: "old-owner", Weight: 1}, {ID: "newcomer", Weight: 1}}, s)
	for i := 0; ; i++ {
		k := shardkey.Key{Cluster: "m", Namespace: "ns", Name: fmt.Sprintf("fd-%d", i)}.String()
		if after[ShardOf(k, s)] == "newcomer" {
			return k
		}
	}
}
