package sharding

import (
	"context"
	"errors"
	"fmt"
	"github.com/flink-hub/flink-hub/internal/sharding/shardlease"
	"net/http"
	"sort"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	coordinationlisters "k8s.io/client-go/listers/coordination/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/flink-hub/flink-hub/internal/sharding/handoff"
)

// The election's permissions in the hub namespace (peer and shard fence
// Leases), generated into deploy/rbac by `make generate`:
//
// +kubebuilder:rbac:groups=coordination.k8s.io,namespace=flink-hub,resources=leases,verbs=get;list;watch;create;update;delete

// ErrDuplicateIdentity is returned by Run when another live process holds
// this replica's identity.
var ErrDuplicateIdentity = errors.New("another live replica holds this identity")

// Elector is one replica's side of the sharded leader election: it holds
// the peer Lease, computes the assignment, acquires, renews and hands off
// shard fences, and implements Gate.
type Elector struct {
	client      kubernetes.Interface
	ns, id      string
	incarnation string
	opts        Options

	informer cache.SharedIndexInformer
	lister   coordinationlisters.LeaseNamespaceLister
	kick     chan struct{}

	mu   sync.Mutex
	seen map[string]observation
	// deleted is when this replica saw a fence Lease with a holder
	// deleted: it is not created again before a lease duration passed, as
	// the holder may not have seen the deletion.
	deleted        map[string]time.Time
	fences         map[int]*fence
	peerLease      *coordinationv1.Lease
	peerValidUntil time.Time
	claimed        bool
	stopping       bool
	// leaving: a graceful stop with the successor handshake is under way
	// (successor.go); the replica still works the shards it holds.
	leaving bool
	// ready are the shards this replica announces ready to take, and
	// announced what its peer Lease says as of its last write.
	ready     []int
	announced announcement
	mismatch  string
	onAcquire []func(int)
	onRelease []func(shard int, reason string)
	onServing []func()
	// served are the shards assigned to this replica or held by it, as of
	// the last tick.
	served map[int]bool
	// acquireFailing are the shards whose acquisitions failed at every try
	// since a moment (acquireFailed).
	acquireFailing map[int]*acquireFailure
}

// observation is when this replica last saw a Lease change, on its own clock.
type observation struct {
	resourceVersion string
	at              time.Time
	// lapsedOnArrival: a peer Lease whose first sight here (this replica
	// just started, or the Lease was created again) showed a renewTime
	// older than its duration, by the holder's own clock. Such a peer is
	// left out of the assignment until its Lease changes (livePeers); it
	// never shortens the wait before a fence is taken (expiredLocked).
	lapsedOnArrival bool
}

var _ Gate = (*Elector)(nil)

// New returns an Elector for the replica identity in the hub namespace.
func New(client kubernetes.Interface, namespace, identity string, opts ...Option) (*Elector, error) {
	o := Options{}
	for _, f := range opts {
		f(&o)
	}
	if err := o.defaultAndValidate(); err != nil {
		return nil, err
	}
	if err := shardlease.ValidateIdentity(identity); err != nil {
		return nil, err
	}
	if namespace == "" {
		return nil, fmt.Errorf("hub namespace is empty")
	}
	o.Log = o.Log.WithValues("replica", identity)
	return &Elector{
		client: client, ns: namespace, id: identity, opts: o,
		incarnation: string(uuid.NewUUID()),
		kick:        make(chan struct{}, 1),
		seen:        map[string]observation{},
		deleted:     map[string]time.Time{},
		fences:      map[int]*fence{},

		acquireFailing: map[int]*acquireFailure{},
	}, nil
}

// Identity is this replica's identity.
func (e *Elector) Identity() string { return e.id }

// Shards is S.
func (e *Elector) Shards() int { return e.opts.Shards }

// ShardOf implements Gate: MemberShardOf with a member spread, else
// ShardOf.
func (e *Elector) ShardOf(key string) int {
	if e.opts.Spread > 0 {
		return MemberShardOf(key, e.opts.Shards, e.opts.Spread)
	}
	return ShardOf(key, e.opts.Shards)
}

// Spread is W, 0 without a member spread.
func (e *Elector) Spread() int { return e.opts.Spread }

// ServesMember reports whether this replica is assigned, or holds, one of
// the member cluster's shards, so needs to connect to it. Always true
// without a member spread: every replica serves every member.
func (e *Elector) ServesMember(cluster string) bool {
	if e.opts.Spread == 0 {
		return true
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, s := range MemberShards(cluster, e.opts.Shards, e.opts.Spread) {
		if e.served[s] {
			return true
		}
	}
	return false
}

// OwnsShard reports whether this replica may reconcile the shard's keys
// now.
func (e *Elector) OwnsShard(shard int) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.ownsLocked(shard, time.Now())
}

// OnServingChange registers fn, called (in its own goroutine) when the
// shards this replica is assigned or holds changed, so that what it
// connects to (ServesMember) may have.
func (e *Elector) OnServingChange(fn func()) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.onServing = append(e.onServing, fn)
}

// Reasons a replica stops owning a shard, as OnRelease reports them.
const (
	// ReleaseHandoff: the shard moved to another replica and was released.
	ReleaseHandoff = "handoff"
	// ReleaseLapsed: the fence passed its renew deadline (hub unreachable).
	ReleaseLapsed = "lapsed"
	// ReleaseLost: the fence changed under us (taken over).
	ReleaseLost = "lost"
)

// OnRelease registers fn, called (in its own goroutine) every time this
// replica stops owning a shard, with one of the Release* reasons.
func (e *Elector) OnRelease(fn func(shard int, reason string)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.onRelease = append(e.onRelease, fn)
}

// OnAcquire implements Gate.
func (e *Elector) OnAcquire(fn func(shard int)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.onAcquire = append(e.onAcquire, fn)
}

// Owns implements Gate.
func (e *Elector) Owns(key string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.ownsLocked(e.ShardOf(key), time.Now())
}

// OwnedShards lists the shards this replica may reconcile now.
func (e *Elector) OwnedShards() []int {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := time.Now()
	var out []int
	for k := range e.fences {
		if e.ownsLocked(k, now) {
			out = append(out, k)
		}
	}
	sort.Ints(out)
	return out
}

// ownsLocked reports whether a new reconcile of the shard may be admitted:
// its fence held and valid, and neither draining nor the replica stopping.
func (e *Elector) ownsLocked(shard int, now time.Time) bool {
	f := e.fences[shard]
	return f != nil && !e.stopping && !f.draining && e.stillHeldLocked(f, now)
}

// stillHeldLocked reports whether f is still this replica's valid fence of
// its shard: the ownership check of reconciles already admitted. A drain
// (handoff, stop) does not fail it: the drain waits for them to finish, and
// their writes must land meanwhile. It is safe because a fence is released
// only once none of its reconciles is in flight, or after their contexts
// were cancelled (StillOwned checks the context first).
func (e *Elector) stillHeldLocked(f *fence, now time.Time) bool {
	return e.fences[f.shard] == f && e.claimed && e.mismatch == "" && now.Before(f.validUntil)
}

// Begin implements Gate. A key is marked handoff.First unless a marked
// reconcile of it since the fence was acquired ended without error (its
// entry in the fence's firsts).
func (e *Elector) Begin(ctx context.Context, key string) (context.Context, func(error), bool) {
	shard := e.ShardOf(key)
	e.mu.Lock()
	defer e.mu.Unlock()
	now := time.Now()
	if !e.ownsLocked(shard, now) {
		return ctx, func(error) {}, false
	}
	f := e.fences[shard]
	f.inflight++
	fs := f.firsts
	_, confirmed := fs.keys[key]
	if confirmed {
		fs.keys[key] = now
	} else {
		ctx = handoff.WithFirstSince(ctx, f.acquired)
	}
	rctx, cancel := context.WithCancel(handoff.WithOwnership(ctx, func() bool {
		e.mu.Lock()
		defer e.mu.Unlock()
		return e.stillHeldLocked(f, time.Now())
	}))
	stop := context.AfterFunc(f.ctx, cancel)
	var once sync.Once
	return rctx, func(err error) {
		once.Do(func() {
			stop()
			cancel()
			e.mu.Lock()
			f.inflight--
			if !confirmed && err == nil && f.firsts == fs {
				fs.keys[key] = time.Now()
			}
			idle := f.inflight == 0 && f.draining
			e.mu.Unlock()
			if idle {
				e.poke()
			}
		})
	}, true
}

// Ready returns nil while this replica takes part in the election and owns
// what it is assigned; otherwise it says why not (shown on /readyz).
func (e *Elector) Ready() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	switch {
	case !e.claimed:
		return fmt.Errorf("replica %s has not claimed its peer lease yet", e.id)
	case e.mismatch != "":
		return fmt.Errorf("refusing to own shards: %s", e.mismatch)
	case time.Now().After(e.peerValidUntil):
		return fmt.Errorf("peer lease of %s not renewed within the renew deadline: hub apiserver unreachable?", e.id)
	}
	return nil
}

// ReadyzCheck adapts Ready to a controller-runtime healthz.Checker.
func (e *Elector) ReadyzCheck(*http.Request) error { return e.Ready() }

func (e *Elector) poke() {
	select {
	case e.kick <- struct{}{}:
	default:
	}
}

// Run takes part in the election until ctx ends, then hands off every
// shard and deletes the peer Lease. It returns ErrDuplicateIdentity when
// another live replica holds the identity, and ErrShardCount when the
// fleet runs with another shard count.
func (e *Elector) Run(ctx context.Context) error {
	sel, err := labels.NewRequirement(shardlease.RoleLabel, selection.Exists, nil)
	if err != nil {
		return err
	}
	factory := informers.NewSharedInformerFactoryWithOptions(e.client, 0,
		informers.WithNamespace(e.ns),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = sel.String() }))
	leases := factory.Coordination().V1().Leases()
	e.mu.Lock()
	e.informer = leases.Informer()
	e.lister = leases.Lister().Leases(e.ns)
	e.mu.Unlock()
	if _, err := e.informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { e.observe(nil, obj) },
		UpdateFunc: func(old, obj any) { e.observe(old, obj) },
		DeleteFunc: e.forget,
	}); err != nil {
		return err
	}
	informerCtx, stopInformer := context.WithCancel(context.Background())
	factory.Start(informerCtx.Done())
	defer func() {
		stopInformer()
		factory.Shutdown()
	}()
	if !cache.WaitForCacheSync(ctx.Done(), e.informer.HasSynced) {
		return ctx.Err()
	}
	if err := e.checkShardCount(ctx); err != nil {
		return err
	}
	if err := e.claim(ctx); err != nil {
		return err
	}
	e.opts.Log.Info("joined sharded election", "shards", e.opts.Shards, "leaseDuration", e.opts.LeaseDuration)
	t := time.NewTicker(e.opts.RetryPeriod)
	defer t.Stop()
	// Another replica's Lease expires on our clock at a known moment; a
	// tick then, rather than at the next retry period, takes a dead
	// replica's shards up to a retry period sooner.
	expiry := time.NewTimer(time.Hour)
	defer expiry.Stop()
	// When ctx ends, leave (successor.go) or stop admitting reconciles at
	// once, not after a tick in flight.
	stopped := context.AfterFunc(ctx, func() { e.beginLeaving() })
	defer stopped()
	runErr := e.loop(ctx, t.C, expiry)
	e.shutdown()
	return runErr
}

// loop runs ticks until ctx ends, or, when the replica leaves with the
// successor handshake, until it holds no fence or HandoffWait passed.
func (e *Elector) loop(ctx context.Context, ticks <-chan time.Time, expiry *time.Timer) error {
	done := ctx.Done()
	var leaveBy <-chan time.Time
	for {
		// A tick is not cut short by ctx: every write in it is bounded (a
		// renewal or release by its Lease's validity, others by the retry
		// period), and a write cut in flight would leave a Lease changed
		// behind our back just before the handoff.
		if err := e.tick(context.Background()); err != nil {
			return err
		}
		if e.leftAll() {
			return nil
		}
		if d, ok := e.nextExpiry(time.Now()); ok && d < e.opts.RetryPeriod {
			expiry.Reset(d)
		} else {
			expiry.Stop()
		}
		select {
		case <-done:
			if !e.beginLeaving() {
				return nil
			}
			done = nil
			leave := time.NewTimer(e.opts.HandoffWait)
			defer leave.Stop()
			leaveBy = leave.C
		case <-leaveBy:
			e.stopWaiting()
			return nil
		case <-ticks:
		case <-expiry.C:
		case <-e.kick:
		}
	}
}

// observe records, on the local clock, when a Lease was last seen to change.
func (e *Elector) observe(old, obj any) {
	l, ok := obj.(*coordinationv1.Lease)
	if !ok {
		return
	}
	now := time.Now()
	e.mu.Lock()
	if o, ok := e.seen[l.Name]; !ok || o.resourceVersion != l.ResourceVersion {
		e.seen[l.Name] = observation{resourceVersion: l.ResourceVersion, at: now, lapsedOnArrival: !ok && lapsedByItsRenewTime(l, now)}
	}
	delete(e.deleted, l.Name)
	e.mu.Unlock()
	// Renewals change only renewTime: they need no immediate attention.
	// Joins, releases and holder changes do.
	prev, _ := old.(*coordinationv1.Lease)
	if prev == nil || shardlease.Holder(prev) != shardlease.Holder(l) || annotationsMoved(prev, l) {
		e.poke()
	}
}

// annotationsMoved reports whether a Lease's change touched an annotation
// that shapes the assignment or a handoff.
func annotationsMoved(prev, l *coordinationv1.Lease) bool {
	for _, a := range []string{shardlease.ShardsAnnotation, shardlease.WeightAnnotation, shardlease.LeavingAnnotation, shardlease.ReadyAnnotation} {
		if prev.Annotations[a] != l.Annotations[a] {
			return true
		}
	}
	return false
}

func (e *Elector) forget(obj any) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	if l, ok := obj.(*coordinationv1.Lease); ok {
		now := time.Now()
		e.mu.Lock()
		delete(e.seen, l.Name)
		if l.Labels[shardlease.RoleLabel] == shardlease.RoleShard && shardlease.Holder(l) != "" {
			e.deleted[l.Name] = now
		}
		// A fence of ours deleted under us: stop its reconciles now;
		// another replica may create it again after a lease duration.
		for _, f := range e.fences {
			if f.lease != nil && f.lease.Name == l.Name {
				f.validUntil = now
				e.lapseIfExpiredLocked(f, now)
			}
		}
		e.mu.Unlock()
	}
	e.poke()
}

// expired reports whether lease l has not been seen to change for its lease
// duration, judged on the local clock only.
func (e *Elector) expiredLocked(l *coordinationv1.Lease, now time.Time) (bool, time.Duration) {
	d := e.fenceDuration(l)
	o, ok := e.seen[l.Name]
	if !ok || o.resourceVersion != l.ResourceVersion {
		return false, 0
	}
	age := now.Sub(o.at)
	return age >= d, age
}

// fenceDuration is how long a fence must be seen unchanged before another
// replica may take it: its own lease duration, never less than ours.
func (e *Elector) fenceDuration(l *coordinationv1.Lease) time.Duration {
	d, err := shardlease.DurationOf(l)
	if err != nil || d < e.opts.LeaseDuration {
		return e.opts.LeaseDuration
	}
	return d
}

// nextExpiry returns how long until the next Lease another replica holds
// expires on the local clock, if one is still valid: a peer Lease after its
// own duration (livePeers), a fence after fenceDuration (expiredLocked).
func (e *Elector) nextExpiry(now time.Time) (time.Duration, bool) {
	all, err := e.lister.List(labels.Everything())
	if err != nil {
		return 0, false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	next, found := time.Duration(0), false
	for _, l := range all {
		o, seen := e.seen[l.Name]
		if h := shardlease.Holder(l); h == "" || h == e.id || !seen || o.resourceVersion != l.ResourceVersion {
			continue
		}
		d, err := shardlease.DurationOf(l)
		switch {
		case l.Labels[shardlease.RoleLabel] == shardlease.RoleShard:
			d = e.fenceDuration(l)
		case err != nil:
			continue // an invalid peer Lease is never live
		}
		if left := d - now.Sub(o.at); left > 0 && (!found || left < next) {
			next, found = left, true
		}
	}
	return next, found
}

// Peers returns the live peers, this replica among them when its peer
// Lease is valid.
func (e *Elector) Peers() []shardlease.Peer {
	peers, err := e.livePeers(time.Now())
	if err != nil {
		return nil
	}
	return peers
}

// lapsedByItsRenewTime reports whether peer Lease l's last renewal, by
// its holder's clock, is more than its duration before now.
func lapsedByItsRenewTime(l *coordinationv1.Lease, now time.Time) bool {
	if l.Labels[shardlease.RoleLabel] != shardlease.RolePeer || l.Spec.RenewTime == nil {
		return false
	}
	d, err := shardlease.DurationOf(l)
	return err == nil && now.Sub(l.Spec.RenewTime.Time) > d
}

// livePeers returns the valid peers whose Leases changed within their lease
// duration; garbage Leases are skipped.
//
// A peer Lease that was already lapsed by its own renewTime when this
// replica first saw it (a replica that died shortly before this one
// started) is skipped until it changes. Trusting the holder's clock is
// safe here because it only shapes the assignment: taking a fence still
// waits a lease duration on the local clock. Counting such a peer for a
// lease duration instead would leave the shards it is assigned, which the
// other replicas hand off, without an owner meanwhile.
func (e *Elector) livePeers(now time.Time) ([]shardlease.Peer, error) {
	all, err := e.lister.List(labels.SelectorFromSet(labels.Set{shardlease.RoleLabel: shardlease.RolePeer}))
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []shardlease.Peer
	for _, l := range all {
		p, err := shardlease.ParsePeer(l)
		if err != nil {
			e.opts.Log.V(1).Info("ignoring invalid peer lease", "lease", l.Name, "reason", err.Error())
			continue
		}
		if p.ID == e.id {
			continue // judged by our own renewals below
		}
		o, ok := e.seen[l.Name]
		if !ok || o.lapsedOnArrival || now.Sub(o.at) >= p.LeaseDuration {
			continue
		}
		out = append(out, p)
	}
	if e.claimed && now.Before(e.peerValidUntil) {
		out = append(out, shardlease.Peer{ID: e.id, Shards: e.opts.Shards, Weight: e.opts.Weight, LeaseDuration: e.opts.LeaseDuration, FleetAddress: e.opts.FleetAddress, Leaving: e.leaving, Ready: e.ready})
	}
	return out, nil
}

// Holders maps each shard to the holder its fence Lease names, as this
// replica's cache sees it ("" or missing: nobody), for views such as the
// fleet index. It is empty until Run has synced.
func (e *Elector) Holders() map[int]string {
	out := map[int]string{}
	e.mu.Lock()
	lister := e.lister
	e.mu.Unlock()
	if lister == nil {
		return out
	}
	all, err := lister.List(labels.SelectorFromSet(labels.Set{shardlease.RoleLabel: shardlease.RoleShard}))
	if err != nil {
		return out
	}
	for _, l := range all {
		if k, ok := shardlease.ParseShardLeaseName(l.Name); ok {
			out[k] = shardlease.Holder(l)
		}
	}
	return out
}
