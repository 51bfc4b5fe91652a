package app

import (
	"context"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/source"
	mcreconcile "sigs.k8s.io/multicluster-runtime/pkg/reconcile"

	flinkv1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/clusters"
	"github.com/flink-hub/flink-hub/internal/clusters/fleetindex"
	"github.com/flink-hub/flink-hub/internal/controllers/flinkdeployment"
	"github.com/flink-hub/flink-hub/internal/controllers/flinksessionjob"
	"github.com/flink-hub/flink-hub/internal/controllers/flinkstatesnapshot"
	"github.com/flink-hub/flink-hub/internal/deployer"
	"github.com/flink-hub/flink-hub/internal/deployer/native"
	"github.com/flink-hub/flink-hub/internal/deployer/standalone"
	"github.com/flink-hub/flink-hub/internal/flinkrest"
	"github.com/flink-hub/flink-hub/internal/jarfetch"
	"github.com/flink-hub/flink-hub/internal/observability"
	"github.com/flink-hub/flink-hub/internal/observability/reconcileaudit"
	"github.com/flink-hub/flink-hub/internal/observability/traceattr"
	"github.com/flink-hub/flink-hub/internal/sharding"
	"github.com/flink-hub/flink-hub/internal/sharding/listconfirm"
	"github.com/flink-hub/flink-hub/internal/sharding/mcgate"
	"github.com/flink-hub/flink-hub/internal/sharding/shardkey"
)

// takeover returns a kind's Requeuer, which queues the keys of every shard
// acquired, and the Confirmer their first reconciles ask whether the
// cache is current: the one the Requeuer starts the lists of at the
// acquisition (mcgate.WithPrefetch). kind is the keys' shard kind,
// listKind the kind's list in flink.apache.org/v1beta1.
func takeover(elector *sharding.Elector, kind, listKind string, newList func() client.ObjectList) (*mcgate.Requeuer, *listconfirm.Confirmer) {
	confirmer := listconfirm.New(flinkv1beta1.GroupVersion.WithKind(listKind))
	return mcgate.NewRequeuer(elector, kind, newList, mcgate.WithPrefetch(confirmer)), confirmer
}

// setupController registers the FlinkDeployment controller, gated by the
// elector, with the requeuer of acquired shards. closeAudit closes the
// reconcile audit, if one is kept.
func setupController(hub *clusters.Hub, c Config, elector *sharding.Elector, resolver *flinkrest.Resolver) (requeuer *mcgate.Requeuer, closeAudit func(), err error) {
	closeAudit = func() {}
	mgr := hub.Manager
	requeuer, confirmer := takeover(elector, "", "FlinkDeploymentList", func() client.ObjectList { return &flinkv1beta1.FlinkDeploymentList{} })
	if err := mgr.Add(requeuer); err != nil {
		return nil, closeAudit, err
	}
	r := &flinkdeployment.Reconciler{
		Clusters: mgr,
		Deployers: map[flinkv1beta1.KubernetesDeploymentMode]deployer.Deployer{
			flinkv1beta1.ModeNative:     native.New(),
			flinkv1beta1.ModeStandalone: standalone.New(),
		},
		JobManagers: flinkdeployment.RESTClients(resolver, c.FlinkREST.ClientOptions()...),
		Options:     c.Reconcile,
		Defaults:    hub.Defaults,
		Adoptions:   hub.Provider,
		CacheCheck:  confirmer,
	}
	setup := c.Controller
	setup.Gate, setup.Replica, setup.ShardOf = elector, c.Election.Identity, elector.ShardOf
	setup.Sources = append(setup.Sources, source.TypedSource[mcreconcile.Request](requeuer.Source()))
	if c.AuditFile != "" {
		w, err := reconcileaudit.Open(c.AuditFile, c.Election.Identity)
		if err != nil {
			return nil, closeAudit, err
		}
		closeAudit = func() { _ = w.Close() }
		setup.Audit = w.Record
	}
	if err := r.SetupWithManager(mgr, setup); err != nil {
		return nil, closeAudit, fmt.Errorf("FlinkDeployment controller: %w", err)
	}
	return requeuer, closeAudit, nil
}

// setupSessionJobs registers the FlinkSessionJob controller, gated by the
// elector on the session jobs' own keys, with its requeuer of acquired
// shards (returned: its key counts join the FlinkDeployments') and the jar
// fetcher (returned: closed once the manager has stopped, it removes the
// process's own jar folder).
func setupSessionJobs(hub *clusters.Hub, c Config, elector *sharding.Elector, resolver *flinkrest.Resolver) (*mcgate.Requeuer, *jarfetch.Fetcher, error) {
	mgr := hub.Manager
	requeuer, confirmer := takeover(elector, shardkey.KindSessionJob, "FlinkSessionJobList", func() client.ObjectList { return &flinkv1beta1.FlinkSessionJobList{} })
	if err := mgr.Add(requeuer); err != nil {
		return nil, nil, err
	}
	jars, err := jarfetch.New(c.Jars)
	if err != nil {
		return nil, nil, err
	}
	r := &flinksessionjob.Reconciler{
		Clusters:    mgr,
		JobManagers: flinkdeployment.RESTClients(resolver, c.FlinkREST.ClientOptions()...),
		Jars:        jars,
		Options:     c.Reconcile,
		Defaults:    hub.Defaults,
		CacheCheck:  confirmer,
	}
	setup := flinksessionjob.SetupOptions{Gate: elector, Replica: c.Election.Identity, ShardOf: elector.ShardOf,
		MaxConcurrentReconciles: c.Controller.MaxConcurrentReconciles, MemberWorkerShare: c.Controller.MemberWorkerShare,
		Sources: []source.TypedSource[mcreconcile.Request]{requeuer.Source()}}
	if err := r.SetupWithManager(mgr, setup); err != nil {
		return nil, jars, fmt.Errorf("FlinkSessionJob controller: %w", err)
	}
	return requeuer, jars, nil
}

// setupSnapshots registers the FlinkStateSnapshot controller, gated by the
// elector on the snapshots' own keys, with its requeuer of acquired shards
// (returned: its key counts join the others').
func setupSnapshots(hub *clusters.Hub, c Config, elector *sharding.Elector, resolver *flinkrest.Resolver) (*mcgate.Requeuer, error) {
	mgr := hub.Manager
	requeuer, confirmer := takeover(elector, shardkey.KindSnapshot, "FlinkStateSnapshotList", func() client.ObjectList { return &flinkv1beta1.FlinkStateSnapshotList{} })
	if err := mgr.Add(requeuer); err != nil {
		return nil, err
	}
	r := &flinkstatesnapshot.Reconciler{
		Clusters:    mgr,
		JobManagers: flinkdeployment.RESTClients(resolver, c.FlinkREST.ClientOptions()...),
		Options:     c.Reconcile,
		CacheCheck:  confirmer,
	}
	setup := flinkstatesnapshot.SetupOptions{Gate: elector, Replica: c.Election.Identity, ShardOf: elector.ShardOf,
		MaxConcurrentReconciles: c.Controller.MaxConcurrentReconciles, MemberWorkerShare: c.Controller.MemberWorkerShare,
		Sources: []source.TypedSource[mcreconcile.Request]{requeuer.Source()}}
	if err := r.SetupWithManager(mgr, setup); err != nil {
		return nil, fmt.Errorf("FlinkStateSnapshot controller: %w", err)
	}
	return requeuer, nil
}

// addProbes adds the readiness checks (hub apiserver, caches, sharding,
// the default configuration read) and the liveness ping.
func addProbes(hub *clusters.Hub, cfg *rest.Config, elector *sharding.Elector) error {
	mgr := hub.Manager
	hubReady, err := observability.APIServerChecker(cfg, 2*time.Second)
	if err != nil {
		return err
	}
	for name, check := range map[string]healthz.Checker{
		"hub-apiserver": hubReady,
		"caches":        observability.CacheSyncedChecker(mgr.GetLocalManager().GetCache()),
		"sharding":      elector.ReadyzCheck,
		"defaults":      hub.Defaults.ReadyzCheck,
	} {
		if err := mgr.AddReadyzCheck(name, check); err != nil {
			return err
		}
	}
	return mgr.AddHealthzCheck("ping", healthz.Ping)
}

// traceShardMoves makes every acquired and released shard a short span,
// so a trace search by replica shows when it took over which shards.
func traceShardMoves(elector *sharding.Elector, replica string) {
	elector.OnAcquire(func(shard int) {
		_, span := observability.Tracer().Start(context.Background(), "Acquire shard",
			trace.WithAttributes(traceattr.Shard.Int(shard), traceattr.Replica.String(replica)))
		span.End()
	})
	elector.OnRelease(func(shard int, reason string) {
		_, span := observability.Tracer().Start(context.Background(), "Release shard",
			trace.WithAttributes(traceattr.Shard.Int(shard), traceattr.Replica.String(replica), attribute.String("flinkhub.reason", reason)))
		span.End()
	})
}

// placer puts fleet index rows on their shard and its current holder.
type placer struct{ elector *sharding.Elector }

func (p placer) Place(keys []fleetindex.Key) []fleetindex.Placement {
	holders := p.elector.Holders()
	out := make([]fleetindex.Placement, len(keys))
	for i, k := range keys {
		shard := p.elector.ShardOf(k.String())
		out[i] = fleetindex.Placement{Shard: &shard, Owner: holders[shard]}
	}
	return out
}
