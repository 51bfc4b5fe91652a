// Package app builds the hub and runs it: tracing, the sharded election,
// the member machinery, the webhook and the FlinkDeployment controller,
// wired into one multicluster manager. cmd/flink-hub parses and validates
// flags into a Config and calls Run; nothing else.
package app

import (
	"context"
	"errors"
	"github.com/flink-hub/flink-hub/internal/jarfetch"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/flink-hub/flink-hub/internal/clusters"
	"github.com/flink-hub/flink-hub/internal/clusters/fleetapi"
	"github.com/flink-hub/flink-hub/internal/clusters/fleetindex"
	"github.com/flink-hub/flink-hub/internal/clusters/memberconfig"
	"github.com/flink-hub/flink-hub/internal/clusters/memberstatus"
	"github.com/flink-hub/flink-hub/internal/controllers/flinkdeployment"
	"github.com/flink-hub/flink-hub/internal/controllers/flinksessionjob"
	"github.com/flink-hub/flink-hub/internal/flinkrest"
	"github.com/flink-hub/flink-hub/internal/observability"
	"github.com/flink-hub/flink-hub/internal/sharding"
	"github.com/flink-hub/flink-hub/internal/sharding/mcgate"
	"github.com/flink-hub/flink-hub/internal/webhook"
)

// Config is everything the hub's flags set, validated.
type Config struct {
	// Version is recorded on traces.
	Version string
	// MetricsAddr, HealthAddr and PprofAddr are the manager's listeners.
	MetricsAddr, HealthAddr, PprofAddr string
	// AuditFile, when set, records every admitted reconcile (benchmark
	// builds only).
	AuditFile string

	Clusters   clusters.Options
	Election   sharding.Flags
	Reconcile  flinkdeployment.Options
	Controller flinkdeployment.SetupOptions
	FlinkREST  flinkrest.Options
	Tracing    observability.TracingOptions
	Webhook    webhook.Flags
	Jars       jarfetch.Options
}

// Run runs the hub against the hub cluster cfg until ctx ends. On
// shutdown the election ends first (it drains in-flight reconciles and
// releases every fence, so peers take over at once), then the manager.
func Run(ctx context.Context, cfg *rest.Config, c Config) error {
	c.Tracing.ServiceVersion, c.Tracing.Replica = c.Version, c.Election.Identity
	tracing, err := observability.SetupTracing(ctx, c.Tracing)
	if err != nil {
		return err
	}
	defer func() {
		flushCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = tracing.Shutdown(flushCtx)
	}()

	cs, err := sharding.NewClient(cfg)
	if err != nil {
		return err
	}
	var hubOnce atomic.Pointer[clusters.Hub]
	requeuers := &requeuerSet{}
	elector, err := newElector(ctx, cs, c, &hubOnce, requeuers)
	if err != nil {
		return err
	}
	traceShardMoves(elector, c.Election.Identity)
	resolver, err := flinkrest.NewResolver(c.FlinkREST)
	if err != nil {
		return err
	}
	// A default configuration change, and a member handed over for
	// adoption, reconcile what they reach at once.
	hub, err := newHub(cfg, c, elector, resolver, requeuers.enqueueMembers)
	if err != nil {
		return err
	}
	hubOnce.Store(hub)
	followServedMembers(ctx, elector, hub)
	// The Apache operator's metrics count what this replica owns.
	fleetindex.ServeUpstreamMetricsAs(c.Election.Identity)
	if err := webhook.Setup(hub.Manager, cs, c.Clusters.Namespace, hub.Defaults, c.Webhook); err != nil {
		return err
	}
	if err := addProbes(hub, cfg, elector); err != nil {
		return err
	}
	requeuer, closeAudit, err := setupController(hub, c, elector, resolver)
	if err != nil {
		return err
	}
	defer closeAudit()
	sessionRequeuer, jars, err := setupSessionJobs(hub, c, elector, resolver)
	if jars != nil {
		defer jars.Close() // after the manager: no reconcile uses a jar then
	}
	if err != nil {
		return err
	}
	snapshotRequeuer, err := setupSnapshots(hub, c, elector, resolver)
	if err != nil {
		return err
	}
	requeuers.set([]*mcgate.Requeuer{requeuer, sessionRequeuer, snapshotRequeuer}, []*mcgate.Requeuer{requeuer, sessionRequeuer})
	return runElectionThenManager(ctx, elector, hub.Manager)
}

// newElector builds the replica's shard elector. With a member spread it
// balances members, weighing shards by the members of the hub (once the
// hub is built); it counts each shard's keys over the controllers'
// requeuers (once they are set up). The weights and the readiness are
// asked past ctx (each within spreadMembers' second): a replica told to
// stop keeps taking part in the assignment and the successor handshake
// while it leaves.
func newElector(ctx context.Context, cs kubernetes.Interface, c Config, hub *atomic.Pointer[clusters.Hub], requeuers *requeuerSet) (*sharding.Elector, error) {
	ctx = context.WithoutCancel(ctx)
	return sharding.New(cs, c.Clusters.Namespace, c.Election.Identity, append(c.Election.Options(),
		sharding.WithShardWeights(func() []int {
			_, names, ok := spreadMembers(ctx, c, hub)
			if !ok {
				return nil // the hub's cache is not ready: shards count meanwhile
			}
			return sharding.MemberWeights(names, c.Election.Shards, c.Election.Spread)
		}),
		sharding.WithReadyFor(func(shards []int) []int {
			h, names, ok := spreadMembers(ctx, c, hub)
			if !ok {
				return nil // not ready to say: the holders wait
			}
			return sharding.ReadyShards(shards, names, c.Election.Shards, c.Election.Spread, func(m string) bool {
				engaged, _, _ := h.Provider.Engaged(m)
				return engaged
			})
		}),
		sharding.WithKeyCount(requeuers.keyCount),
		sharding.WithFleetAddress(c.Clusters.FleetAdvertised()),
		sharding.WithLogger(ctrllog.Log.WithName("sharding")))...)
}

// spreadMembers returns the hub and its registered members when the
// fleet runs with a member spread and the hub is built; ok is false
// otherwise, or when the hub's cache cannot say within a second.
func spreadMembers(ctx context.Context, c Config, hub *atomic.Pointer[clusters.Hub]) (h *clusters.Hub, names []string, ok bool) {
	h = hub.Load()
	if c.Election.Spread == 0 || h == nil {
		return nil, nil, false
	}
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	names, err := h.Provider.MemberNames(ctx)
	return h, names, err == nil
}

// followServedMembers has the hub's provider engage and let go of members
// as the shards this replica holds bring or take them (a member spread).
// It follows them past ctx: a replica told to stop keeps working while it
// hands its shards to ready successors (the successor handshake), and lets
// each member go as its last shard goes.
func followServedMembers(ctx context.Context, elector *sharding.Elector, hub *clusters.Hub) {
	if elector.Spread() == 0 {
		return
	}
	ctx = context.WithoutCancel(ctx)
	elector.OnServingChange(func() {
		rctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		if err := hub.Provider.Reevaluate(rctx); err != nil {
			ctrllog.Log.WithName("member-provider").Error(err, "cannot reevaluate the members this replica serves")
		}
	})
}

// requeuerSet holds the controllers' requeuers, set once the controllers
// are, after the elector and the hub that already ask it: it counts no
// keys and enqueues nothing until then.
type requeuerSet struct {
	mu sync.Mutex
	// counted are the requeuers whose keys the elector counts.
	counted []*mcgate.Requeuer
	// byMember are those that reconcile a member's keys at once when its
	// default configuration changes or it is handed over for adoption.
	byMember []*mcgate.Requeuer
}

func (s *requeuerSet) set(counted, byMember []*mcgate.Requeuer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counted, s.byMember = counted, byMember
}

// keyCount is the number of keys of shard over the counted requeuers.
func (s *requeuerSet) keyCount(shard int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.counted {
		if r != nil {
			n += r.KeyCount(shard)
		}
	}
	return n
}

// enqueueMembers reconciles the keys of members.
func (s *requeuerSet) enqueueMembers(members []string) {
	s.mu.Lock()
	rs := s.byMember
	s.mu.Unlock()
	for _, r := range rs {
		if r != nil {
			r.EnqueueMembers(context.Background(), members)
		}
	}
}

// newHub builds the member machinery: the provider, the fleet index and
// API, and the MemberCluster status, placed by the elector.
func newHub(cfg *rest.Config, c Config, elector *sharding.Elector, resolver *flinkrest.Resolver, enqueueMembers func(members []string)) (*clusters.Hub, error) {
	o := c.Clusters
	o.Placer = placer{elector}
	o.MemberUserAgent = "flink-hub/" + c.Election.Identity
	// One replica writes each member's status: the owner of its key, or
	// with a member spread the owner of the member's home shard, which
	// serves the member.
	o.OwnsMember = func(member string) bool { return elector.Owns(memberstatus.ShardKey(member)) }
	o.OnMemberOwnershipGained = func(fn func()) { elector.OnAcquire(func(int) { fn() }) }
	if elector.Spread() > 0 {
		o.OwnsMember = func(member string) bool { return elector.OwnsShard(sharding.HomeShard(member, elector.Shards())) }
		o.ServesMember = elector.ServesMember
		// A member engaged may make a shard ready to take over.
		o.OnMemberEngaged = func(string) { elector.ReadinessChanged() }
		o.FleetPeers = func() []fleetapi.Peer {
			var out []fleetapi.Peer
			for _, p := range elector.Peers() {
				// One without an address is reported as missing rows.
				if p.ID != elector.Identity() {
					out = append(out, fleetapi.Peer{ID: p.ID, Address: p.FleetAddress})
				}
			}
			return out
		}
	}
	// A member's Flink REST connections go with it.
	o.OnMemberDisengaged = resolver.Forget
	o.OnDefaultsChanged = enqueueMembers
	o.OnAdopt = func(member string) { enqueueMembers([]string{member}) }
	// What the controllers watch in members is listed before they engage
	// each member.
	o.MemberWatchedKinds = append(flinkdeployment.WatchedMemberKinds(), flinksessionjob.WatchedMemberKinds()...)
	memberCache := flinkdeployment.MemberCacheOptions()
	o.MemberCacheByObject, o.MemberCacheTransform = memberCache.ByObject, memberCache.DefaultTransform
	// The hub's own requests get the members' deadline too (a watch only
	// until it starts): a hub apiserver that stops answering one request
	// fails it, to be retried, instead of holding a cache or a
	// controller's start for good.
	hubCfg := rest.CopyConfig(cfg)
	memberconfig.RequestTimeout(hubCfg, o.MemberRequestTimeout)
	return clusters.New(hubCfg, o, manager.Options{
		Metrics:                metricsserver.Options{BindAddress: c.MetricsAddr},
		HealthProbeBindAddress: c.HealthAddr,
		PprofBindAddress:       c.PprofAddr,
	})
}

// runElectionThenManager runs the manager beside the election; the
// election's end (ctx done, or a fatal election error) stops the manager.
func runElectionThenManager(ctx context.Context, elector *sharding.Elector, mgr interface {
	Start(context.Context) error
}) error {
	err := elector.RunWith(ctx, mgr)
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
