package sharding

import (
	"context"
	"fmt"
	"github.com/flink-hub/flink-hub/internal/sharding/shardlease"
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// fence is a shard fence Lease this replica holds (or held and may still
// renew). Guarded by Elector.mu; only the Run goroutine writes the Lease.
type fence struct {
	shard int
	// lease is the object our last successful write returned.
	lease *coordinationv1.Lease
	// validUntil is the start of the last successful write + renew deadline.
	validUntil time.Time
	// lapsed is set once validUntil passed; ctx is cancelled then.
	lapsed bool
	// draining: no new reconciles are admitted; released once inflight is 0.
	draining   bool
	drainSince time.Time
	inflight   int
	// releaseTried: shutdown tried to release it (once).
	releaseTried bool
	ctx          context.Context
	cancel       context.CancelFunc
	// expiry fires at validUntil and lapses the fence then, whatever the
	// tick is doing (a tick blocked on an unanswering apiserver notices
	// late).
	expiry *time.Timer
	// firsts are the keys whose first reconcile since the fence was
	// acquired (or regained after a lapse) succeeded.
	firsts *firsts
	// acquired is when the write that acquired the fence returned.
	acquired time.Time
	// unassignedSince is when the assignment first left this replica
	// without the shard while it held it (zero while assigned); the
	// successor handshake waits at most HandoffWait from then.
	unassignedSince time.Time
}

// firsts holds, for one fence, the keys whose reconcile marked
// handoff.First ended without error, by their last admission.
//
// Invariant: the first reconcile of a key since the fence was acquired
// that succeeds was marked (it confirmed its cached copy or read live):
// a key is admitted unmarked only while it is in keys, and it enters keys
// only when a marked reconcile of it succeeded (a failed one, say its live
// read timed out, leaves the next one marked). Memory stays bounded by the
// keys admitted within Options.firstsTTL: pruneFirsts drops the others
// (keys deleted long ago, such as finished snapshots), and a dropped key
// that comes back is marked again: one more confirmation, never a missed
// one.
type firsts struct {
	keys     map[string]time.Time
	prunedAt time.Time
}

func newFirsts(now time.Time) *firsts {
	return &firsts{keys: map[string]time.Time{}, prunedAt: now}
}

// pruneFirsts drops, at most every firstsTTL/2 per fence, the keys not
// admitted for firstsTTL, into a new map (a map never shrinks).
func (e *Elector) pruneFirsts(now time.Time) {
	ttl := e.opts.firstsTTL
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, f := range e.fences {
		fs := f.firsts
		if now.Sub(fs.prunedAt) < ttl/2 {
			continue
		}
		kept := make(map[string]time.Time, len(fs.keys)/2)
		for k, at := range fs.keys {
			if now.Sub(at) < ttl {
				kept[k] = at
			}
		}
		fs.keys, fs.prunedAt = kept, now
	}
}

// parallelWrites bounds concurrent Lease writes per tick: high enough that
// every fence of a replica is renewed at once (a renewal waits up to the
// retry period; batches one after the other would add up).
const parallelWrites = 64

// tick runs one round: renew the peer Lease, compute the assignment, start
// handoffs, renew held fences, release drained ones, acquire missing ones.
// Leases renewed very recently (renewalDue) are not renewed again, so a
// tick that a Lease event brought (a release, a join) goes straight to the
// handoff.
func (e *Elector) tick(ctx context.Context) error {
	if err := e.renewPeer(ctx); err != nil {
		return err
	}
	now := time.Now()
	peers, err := e.livePeers(now)
	if err != nil {
		return err
	}
	// Weighed outside the lock: Owns and Begin never wait on it.
	var weights []int
	if e.opts.ShardWeights != nil {
		weights = e.opts.ShardWeights()
	}
	want := map[int]bool{}
	e.mu.Lock()
	self := e.claimed && now.Before(e.peerValidUntil)
	previous := e.mismatch
	e.mismatch = ""
	var members []Member
	for _, p := range peers {
		if p.Shards != e.opts.Shards && e.mismatch == "" {
			e.mismatch = fmt.Sprintf("peer %s runs with %d shards, this replica with %d; all replicas must use the same --shards", p.ID, p.Shards, e.opts.Shards)
		}
		if !p.Leaving {
			members = append(members, Member{ID: p.ID, Weight: p.Weight})
		}
	}
	var assignment Assignment
	if e.mismatch != "" {
		configMismatch.Set(1)
		if e.mismatch != previous {
			e.opts.Log.Info("refusing to own shards", "reason", e.mismatch)
		}
	} else {
		configMismatch.Set(0)
		assignment = AssignWeighted(members, e.opts.Shards, weights)
		for _, k := range assignment.ShardsOf(e.id) {
			want[k] = true
		}
	}
	for k, f := range e.fences {
		if want[k] {
			f.unassignedSince = time.Time{}
		}
		// Without a valid peer Lease the view of the peers is stale: keep
		// renewing what we hold and change nothing else.
		if self && !want[k] && !f.draining && !e.keepForSuccessorLocked(f, assignment, peers, now) {
			f.draining, f.drainSince = true, now
			e.opts.Log.Info("handing off shard", "shard", k)
		}
		e.lapseIfExpiredLocked(f, now)
		if f.draining && f.inflight > 0 && now.Sub(f.drainSince) > e.opts.DrainTimeout {
			f.cancel() // ask the stragglers to stop; release once they have
		}
	}
	e.mu.Unlock()

	e.renewFences(ctx)
	e.releaseDrained(ctx)
	e.pruneFirsts(time.Now())
	e.mu.Lock()
	stopping := e.stopping || e.leaving
	if !self || e.mismatch != "" || stopping {
		clear(e.acquireFailing) // nothing is tried
	}
	e.mu.Unlock()
	if self && e.mismatch == "" && !stopping {
		e.acquire(ctx, want)
	}
	e.updateServed(want)
	e.updateGauges()
	e.updateReady(want)
	return e.announce(ctx) // at once, not at the next renewal
}

// updateServed records the shards assigned or held and tells the
// OnServingChange hooks when they changed.
func (e *Elector) updateServed(assigned map[int]bool) {
	e.mu.Lock()
	served := maps.Clone(assigned)
	for k := range e.fences {
		served[k] = true
	}
	changed := !maps.Equal(served, e.served)
	e.served = served
	hooks := slices.Clone(e.onServing)
	e.mu.Unlock()
	if changed {
		for _, fn := range hooks {
			go fn()
		}
	}
}

func (e *Elector) updateGauges() {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := time.Now()
	owned := 0
	for k := range e.fences {
		if e.ownsLocked(k, now) {
			owned++
		}
	}
	shardsOwned.Set(float64(owned))
	fencesHeld.Set(float64(len(e.fences)))
	failing := 0
	for _, f := range e.acquireFailing {
		if now.Sub(f.since) >= e.opts.RenewDeadline {
			failing++
		}
	}
	acquireFailing.Set(float64(failing))
}

// acquireFailure is a shard whose every acquisition failed since since;
// reported is when that was last logged at default verbosity.
type acquireFailure struct {
	since, reported time.Time
}

// endAcquireStreaksLocked ends the failure streaks of the shards not
// tried now, or held (a streak counts consecutive failed tries).
func (e *Elector) endAcquireStreaksLocked(todo []candidate) {
	tried := make(map[int]bool, len(todo))
	for _, c := range todo {
		tried[c.shard] = true
	}
	for k := range e.acquireFailing {
		if !tried[k] || e.fences[k] != nil {
			delete(e.acquireFailing, k)
		}
	}
}

// acquireFailed logs a failed acquisition: at V(1) each time, and at
// default verbosity once a shard failed for longer than the renew
// deadline, once per renew deadline (the shard has no owner meanwhile;
// flinkhub_sharding_acquire_failing_shards counts such shards).
func (e *Elector) acquireFailed(shard int, create bool, err error) {
	e.opts.Log.V(1).Info("cannot acquire fence", "shard", shard, "error", err.Error())
	now := time.Now()
	e.mu.Lock()
	f := e.acquireFailing[shard]
	if f == nil {
		f = &acquireFailure{since: now}
		e.acquireFailing[shard] = f
	}
	report := now.Sub(f.since) >= e.opts.RenewDeadline && now.Sub(f.reported) >= e.opts.RenewDeadline
	if report {
		f.reported = now
	}
	since := f.since
	e.mu.Unlock()
	if !report {
		return
	}
	kv := []any{"shard", shard, "failingFor", now.Sub(since).Round(time.Millisecond).String(), "error", err.Error()}
	if create && apierrors.IsAlreadyExists(err) {
		kv = append(kv, "hint", "a Lease "+shardlease.ShardLeaseName(shard)+" exists without the label "+shardlease.RoleLabel)
	}
	e.opts.Log.Info("cannot acquire fence: the shard has no owner", kv...)
}

// lapseIfExpiredLocked cancels the fence's reconciles once its validity
// ended.
func (e *Elector) lapseIfExpiredLocked(f *fence, now time.Time) {
	if f.lapsed || now.Before(f.validUntil) || e.fences[f.shard] != f {
		return
	}
	f.lapsed = true
	f.cancel()
	fenceLosses.Inc()
	e.notifyReleaseLocked(f.shard, ReleaseLapsed)
	e.opts.Log.Info("fence passed its renew deadline; stopped reconciling the shard", "shard", f.shard)
}

// armExpiryLocked (re)starts the fence's expiry timer for its validUntil.
func (e *Elector) armExpiryLocked(f *fence) {
	if f.expiry != nil {
		f.expiry.Stop()
	}
	f.expiry = time.AfterFunc(time.Until(f.validUntil), func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.lapseIfExpiredLocked(f, time.Now())
	})
}

// forgetLocked stops the fence's reconciles and timer and removes it.
func (e *Elector) forgetLocked(f *fence) {
	f.cancel()
	if f.expiry != nil {
		f.expiry.Stop()
	}
	delete(e.fences, f.shard)
}

// fenceObject is base with this replica as holder, renewed at now.
func (e *Elector) fenceObject(base *coordinationv1.Lease, shard int, now time.Time) *coordinationv1.Lease {
	l := e.leaseObject(base, shardlease.ShardLeaseName(shard), shardlease.RoleShard)
	if e.opts.KeyCount != nil {
		l.Annotations[shardlease.KeysAnnotation] = strconv.Itoa(e.opts.KeyCount(shard))
	}
	if shardlease.Holder(base) != e.id {
		l.Spec.AcquireTime = &metav1.MicroTime{Time: now}
		if base != nil {
			l.Spec.LeaseTransitions = ptr.To(ptr.Deref(base.Spec.LeaseTransitions, 0) + 1)
		}
	}
	l.Spec.HolderIdentity = ptr.To(e.id)
	l.Spec.LeaseDurationSeconds = ptr.To(int32(e.opts.LeaseDuration / time.Second))
	l.Spec.RenewTime = &metav1.MicroTime{Time: now}
	return l
}

// each runs fn for every item with at most parallelWrites at once.
func each[T any](items []T, fn func(T)) {
	sem := make(chan struct{}, parallelWrites)
	var wg sync.WaitGroup
	for _, it := range items {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			fn(it)
		}()
	}
	wg.Wait()
}

func (e *Elector) renewFences(ctx context.Context) {
	e.mu.Lock()
	var held []*fence
	now := time.Now()
	for _, f := range e.fences {
		if f.lapsed || e.renewalDue(f.validUntil, now) {
			held = append(held, f)
		}
	}
	e.mu.Unlock()
	each(held, func(f *fence) {
		e.mu.Lock()
		base, validUntil := f.lease, f.validUntil
		e.mu.Unlock()
		start := time.Now()
		l, err := e.update(ctx, e.renewalTimeout(validUntil, start), base, func(b *coordinationv1.Lease) *coordinationv1.Lease { return e.fenceObject(b, f.shard, start) }, e.holds)
		e.mu.Lock()
		defer e.mu.Unlock()
		switch {
		case err == nil:
			f.lease, f.validUntil = l, start.Add(e.opts.RenewDeadline)
			e.armExpiryLocked(f)
			if f.lapsed && !f.draining {
				// Regained after losing the hub: events were dropped
				// meanwhile, so the shard's keys are enqueued again.
				f.lapsed = false
				f.ctx, f.cancel = context.WithCancel(context.Background())
				f.firsts = newFirsts(time.Now())
				e.opts.Log.Info("renewed fence again after its renew deadline", "shard", f.shard)
				e.notifyLocked(f.shard)
			}
		case apierrors.IsConflict(err) || apierrors.IsNotFound(err):
			e.dropLocked(f, "another replica wrote the fence")
		default:
			e.opts.Log.V(1).Info("cannot renew fence", "shard", f.shard, "error", err.Error())
		}
	})
}

func (e *Elector) holds(l *coordinationv1.Lease) bool { return shardlease.Holder(l) == e.id }

// renewalDue reports whether a Lease valid until validUntil (the start of
// its last renewal + RenewDeadline) is due for renewal: renewed at least
// half a retry period ago, or half the slack between retry period and
// renew deadline if that is less. Renewals are then at most RetryPeriod
// + that apart, less than RenewDeadline.
func (e *Elector) renewalDue(validUntil, now time.Time) bool {
	fresh := min(e.opts.RetryPeriod, e.opts.RenewDeadline-e.opts.RetryPeriod) / 2
	return !now.Before(validUntil.Add(fresh - e.opts.RenewDeadline))
}

// renewalTimeout is how long a renewal (or release) started at now may
// take: until the Lease's validity ends, and never less than a retry
// period. A slow apiserver's answer then still counts (cancelling it at
// the retry period and asking again only added load), and safety does not
// depend on it: a renewal is valid from its start, the fence lapses at
// validUntil by its timer whatever the write is doing, and a release is
// sent only with no reconcile of the shard in flight.
func (e *Elector) renewalTimeout(validUntil, now time.Time) time.Duration {
	return max(e.opts.RetryPeriod, validUntil.Sub(now))
}

// update writes build(base) within timeout. On a conflict it reads the
// Lease again and, if mine says it is still ours (a write of ours whose
// response was lost changed it), writes build(fresh) once more.
func (e *Elector) update(ctx context.Context, timeout time.Duration, base *coordinationv1.Lease, build func(*coordinationv1.Lease) *coordinationv1.Lease, mine func(*coordinationv1.Lease) bool) (*coordinationv1.Lease, error) {
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	leases := e.client.CoordinationV1().Leases(e.ns)
	l, err := leases.Update(rctx, build(base), metav1.UpdateOptions{})
	if !apierrors.IsConflict(err) {
		return l, err
	}
	// A conflict is also what an earlier write of ours whose answer was
	// lost looks like: only a fresh read that shows another writer makes it
	// a conflict. A read that fails is a transient error, not a verdict.
	fresh, gerr := leases.Get(rctx, base.Name, metav1.GetOptions{})
	if gerr != nil {
		return nil, fmt.Errorf("read %s after a conflict: %w", base.Name, gerr)
	}
	if !mine(fresh) {
		return nil, err
	}
	return leases.Update(rctx, build(fresh), metav1.UpdateOptions{})
}

// dropLocked forgets a fence we no longer hold.
func (e *Elector) dropLocked(f *fence, why string) {
	if e.fences[f.shard] != f {
		return
	}
	e.forgetLocked(f)
	if !f.lapsed {
		fenceLosses.Inc()
		e.notifyReleaseLocked(f.shard, ReleaseLost)
	}
	e.opts.Log.Info("lost fence", "shard", f.shard, "reason", why)
}

func (e *Elector) notifyLocked(shard int) {
	for _, fn := range e.onAcquire {
		go fn(shard)
	}
}

func (e *Elector) notifyReleaseLocked(shard int, reason string) {
	for _, fn := range e.onRelease {
		go fn(shard, reason)
	}
}

// releaseDrained clears the holder of every draining fence without
// in-flight reconciles.
func (e *Elector) releaseDrained(ctx context.Context) {
	e.mu.Lock()
	var done []*fence
	for _, f := range e.fences {
		if f.draining && f.inflight == 0 {
			done = append(done, f)
		}
	}
	e.mu.Unlock()
	each(done, func(f *fence) { e.release(ctx, f) })
}

func (e *Elector) release(ctx context.Context, f *fence) {
	e.mu.Lock()
	base, validUntil := f.lease, f.validUntil
	e.mu.Unlock()
	_, err := e.update(ctx, e.renewalTimeout(validUntil, time.Now()), base, func(b *coordinationv1.Lease) *coordinationv1.Lease {
		l := b.DeepCopy()
		l.Spec.HolderIdentity = nil
		l.Spec.AcquireTime, l.Spec.RenewTime = nil, nil
		delete(l.Annotations, shardlease.KeysAnnotation)
		return l
	}, e.holds)
	e.mu.Lock()
	defer e.mu.Unlock()
	switch {
	case err == nil:
		e.forgetLocked(f)
		handoffs.Inc()
		e.notifyReleaseLocked(f.shard, ReleaseHandoff)
		e.opts.Log.Info("released shard", "shard", f.shard)
	case apierrors.IsConflict(err) || apierrors.IsNotFound(err):
		e.dropLocked(f, "fence changed while releasing it")
	default:
		e.opts.Log.Info("cannot release fence; it will expire", "shard", f.shard, "error", err.Error())
	}
}

// candidate is a fence acquire tries: base is its Lease as cached (nil:
// none), unowned how long it has looked ownerless.
type candidate struct {
	shard   int
	base    *coordinationv1.Lease
	unowned time.Duration
}

// acquire takes the wanted fences that are free, ours, or expired on the
// local clock.
func (e *Elector) acquire(ctx context.Context, want map[int]bool) {
	now := time.Now()
	var todo []candidate
	e.mu.Lock()
	for k := range want {
		if e.fences[k] != nil {
			continue
		}
		cached, err := e.lister.Get(shardlease.ShardLeaseName(k))
		switch {
		case apierrors.IsNotFound(err):
			// A fence deleted while held is created again only once its
			// holder must have stopped.
			if at, ok := e.deleted[shardlease.ShardLeaseName(k)]; ok && now.Sub(at) < e.opts.LeaseDuration {
				continue
			}
			todo = append(todo, candidate{shard: k})
		case err != nil:
			continue
		case shardlease.Holder(cached) == "" || shardlease.Holder(cached) == e.id:
			c := candidate{shard: k, base: cached}
			if o, ok := e.seen[cached.Name]; ok {
				c.unowned = now.Sub(o.at)
			}
			todo = append(todo, c)
		default:
			if expired, age := e.expiredLocked(cached, now); expired {
				todo = append(todo, candidate{shard: k, base: cached, unowned: age})
			}
		}
	}
	e.endAcquireStreaksLocked(todo)
	e.mu.Unlock()
	each(todo, func(c candidate) {
		e.mu.Lock()
		stopping := e.stopping
		e.mu.Unlock()
		if stopping {
			return
		}
		start := time.Now()
		obj := e.fenceObject(c.base, c.shard, start)
		rctx, cancel := context.WithTimeout(ctx, e.opts.RetryPeriod)
		defer cancel()
		var l *coordinationv1.Lease
		var err error
		if c.base == nil {
			l, err = e.client.CoordinationV1().Leases(e.ns).Create(rctx, obj, metav1.CreateOptions{})
		} else {
			l, err = e.client.CoordinationV1().Leases(e.ns).Update(rctx, obj, metav1.UpdateOptions{})
		}
		if err != nil {
			e.acquireFailed(c.shard, c.base == nil, err)
			return
		}
		if c.base != nil && shardlease.Holder(c.base) != e.id {
			unownedSeconds.Observe(c.unowned.Seconds())
			shardUnowned.WithLabelValues(strconv.Itoa(c.shard)).Set(c.unowned.Seconds())
		}
		fctx, fcancel := context.WithCancel(context.Background())
		e.mu.Lock()
		defer e.mu.Unlock()
		acquired := time.Now()
		f := &fence{shard: c.shard, lease: l, validUntil: start.Add(e.opts.RenewDeadline), acquired: acquired, firsts: newFirsts(acquired), ctx: fctx, cancel: fcancel}
		e.fences[c.shard] = f
		delete(e.acquireFailing, c.shard)
		e.armExpiryLocked(f)
		e.opts.Log.Info("acquired shard", "shard", c.shard)
		e.notifyLocked(c.shard)
	})
}

// beginStop stops admitting reconciles and starts draining every fence. It
// runs as soon as the election's context ends, while a tick may still be
// writing: that tick releases what is drained and acquires nothing.
func (e *Elector) beginStop() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.stopping {
		return
	}
	e.stopping = true
	now := time.Now()
	for _, f := range e.fences {
		if !f.draining {
			f.draining, f.drainSince = true, now
		}
	}
}

// shutdown stops admitting reconciles, deletes the peer Lease, and
// releases every fence as soon as its own in-flight reconciles finished
// (waiting for them bounded by DrainTimeout, then cancelling them, then as
// long again), so other replicas take over at once instead of after a
// lease duration. The peer Lease goes at once: the other replicas assign
// this replica's shards among themselves while it drains, and take each
// the moment it is released (a released shard still assigned to a live
// peer would wait for the peer Lease to go). The fences, not the peer
// Lease, keep two owners apart, so nothing is owned twice meanwhile.
func (e *Elector) shutdown() {
	e.beginStop()
	e.mu.Lock()
	for _, f := range e.fences {
		f.draining = true // also those a last tick acquired
	}
	e.mu.Unlock()
	// The peer Lease goes while the fences drain: a slow hub apiserver
	// holds neither back.
	peerGone := make(chan struct{})
	go func() {
		defer close(peerGone)
		ctx, cancel := context.WithTimeout(context.Background(), e.opts.RenewDeadline)
		defer cancel()
		e.deletePeer(ctx)
	}()
	deadline := time.Now().Add(e.opts.DrainTimeout)
	for {
		var drained []*fence
		busy := 0
		e.mu.Lock()
		for _, f := range e.fences {
			switch {
			case f.releaseTried:
			case f.inflight == 0:
				f.releaseTried = true
				drained = append(drained, f)
			default:
				busy++
				if time.Now().After(deadline) {
					f.cancel()
				}
			}
		}
		e.mu.Unlock()
		if len(drained) > 0 {
			ctx, cancel := context.WithTimeout(context.Background(), e.opts.RenewDeadline)
			each(drained, func(f *fence) { e.release(ctx, f) })
			cancel()
		}
		if busy == 0 || time.Now().After(deadline.Add(e.opts.DrainTimeout)) {
			break
		}
		select {
		case <-e.kick:
		case <-time.After(10 * time.Millisecond):
		}
	}
	// Fences that could not be released (the hub did not answer) expire on
	// the hub; here they end now: their reconciles are cancelled and their
	// timers stopped, so nothing of the election runs after Run returns.
	e.mu.Lock()
	for _, f := range e.fences {
		if !f.lapsed {
			e.notifyReleaseLocked(f.shard, ReleaseLapsed)
		}
		e.forgetLocked(f)
	}
	e.mu.Unlock()
	<-peerGone
	e.updateGauges()
	e.opts.Log.Info("left sharded election")
}
