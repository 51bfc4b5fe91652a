// Package app builds the hub and runs it: tracing, the sharded election,
// the member machinery, the webhook and the FlinkDeployment controller,
// wired into one multicluster manager. cmd/flink-hub parses and validates
// flags into a Config and calls Run; nothing else.
package app

import (
	"context"
	"errors"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/flink-hub/flink-hub/clusters"
	"github.com/flink-hub/flink-hub/clusters/memberstatus"
	"github.com/flink-hub/flink-hub/controllers/flinkdeployment"
	"github.com/flink-hub/flink-hub/controllers/flinkrest"
	"github.com/flink-hub/flink-hub/observability"
	"github.com/flink-hub/flink-hub/sharding"
	"github.com/flink-hub/flink-hub/sharding/mcgate"
	"github.com/flink-hub/flink-hub/webhook"
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

	cs, err := electionClient(cfg)
	if err != nil {
		return err
	}
	var requeuer *mcgate.Requeuer
	elector, err := sharding.New(cs, c.Clusters.Namespace, c.Election.Identity, append(c.Election.Options(),
		sharding.WithKeyCount(func(shard int) int { return requeuer.KeyCount(shard) }),
		sharding.WithLogger(ctrllog.Log.WithName("sharding")))...)
	if err != nil {
		return err
	}
	traceShardMoves(elector, c.Election.Identity)
	resolver, err := flinkrest.NewResolver(c.FlinkREST)
	if err != nil {
		return err
	}
	hub, err := newHub(cfg, c, elector, resolver)
	if err != nil {
		return err
	}
	if err := webhook.Setup(hub.Manager, cs, c.Clusters.Namespace, c.Webhook); err != nil {
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
	return runElectionThenManager(ctx, elector, hub.Manager)
}

// electionClient is a hub client for the election: Lease renewals must
// never wait behind a client-side rate limit.
func electionClient(cfg *rest.Config) (kubernetes.Interface, error) {
	electionCfg := rest.CopyConfig(cfg)
	electionCfg.QPS, electionCfg.Burst = 100, 200
	return kubernetes.NewForConfig(electionCfg)
}

// newHub builds the member machinery: the provider, the fleet index and
// API, and the MemberCluster status, placed by the elector.
func newHub(cfg *rest.Config, c Config, elector *sharding.Elector, resolver *flinkrest.Resolver) (*clusters.Hub, error) {
	o := c.Clusters
	o.Placer = placer{elector}
	o.MemberUserAgent = "flink-hub/" + c.Election.Identity
	// One replica writes each member's status: the owner of its key.
	o.OwnsMember = func(member string) bool { return elector.Owns(memberstatus.ShardKey(member)) }
	// A member's Flink REST connections go with it.
	o.OnMemberDisengaged = resolver.Forget
	memberCache := flinkdeployment.MemberCacheOptions()
	o.MemberCacheByObject, o.MemberCacheTransform = memberCache.ByObject, memberCache.DefaultTransform
	return clusters.New(cfg, o, manager.Options{
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
	mgrCtx, stopMgr := context.WithCancel(context.WithoutCancel(ctx))
	mgrDone := make(chan error, 1)
	go func() { mgrDone <- mgr.Start(mgrCtx) }()
	err := elector.Run(ctx)
	stopMgr()
	if merr := <-mgrDone; merr != nil && !errors.Is(merr, context.Canceled) {
		err = errors.Join(err, merr)
	}
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
