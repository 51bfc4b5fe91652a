// Command flink-hub is the hub operator: it parses its flags and wires the
// member cluster machinery (package clusters) into a multicluster manager.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
	"k8s.io/klog/v2/textlogger"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlconfig "sigs.k8s.io/controller-runtime/pkg/client/config"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/source"
	mcreconcile "sigs.k8s.io/multicluster-runtime/pkg/reconcile"

	flinkv1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/clusters"
	"github.com/flink-hub/flink-hub/clusters/fleetindex"
	"github.com/flink-hub/flink-hub/clusters/memberstatus"
	"github.com/flink-hub/flink-hub/controllers/deployer"
	"github.com/flink-hub/flink-hub/controllers/deployer/native"
	"github.com/flink-hub/flink-hub/controllers/deployer/standalone"
	"github.com/flink-hub/flink-hub/controllers/flinkdeployment"
	"github.com/flink-hub/flink-hub/controllers/flinkrest"
	"github.com/flink-hub/flink-hub/observability"
	"github.com/flink-hub/flink-hub/observability/reconcileaudit"
	"github.com/flink-hub/flink-hub/sharding"
	"github.com/flink-hub/flink-hub/sharding/mcgate"
	"github.com/flink-hub/flink-hub/webhook"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// config is everything the flags set.
type config struct {
	showVersion bool
	kubeconfig  string
	metricsAddr string
	healthAddr  string
	verbosity   int
	pprofAddr   string
	// auditFile is set only in benchmark builds (audit_bench.go).
	auditFile  string
	clusters   clusters.Options
	election   sharding.Flags
	reconcile  flinkdeployment.Options
	controller flinkdeployment.SetupOptions
	flinkREST  flinkrest.Options
	tracing    observability.TracingOptions
	webhook    webhook.Flags
}

// parseFlags binds every component's flags, parses args and validates
// every component; it reports all problems at once.
func parseFlags(args []string, stderr io.Writer) (*config, error) {
	fs := flag.NewFlagSet("flink-hub", flag.ContinueOnError)
	fs.SetOutput(stderr)
	// Settings without a flag keep their defaults.
	c := &config{clusters: clusters.DefaultOptions(), reconcile: flinkdeployment.DefaultOptions()}
	fs.BoolVar(&c.showVersion, "version", false, "print the version and exit")
	fs.StringVar(&c.kubeconfig, "kubeconfig", "", "kubeconfig of the hub cluster (default: in-cluster or $KUBECONFIG)")
	fs.StringVar(&c.metricsAddr, "metrics-bind-address", ":8080", "address of the Prometheus metrics endpoint (0 disables)")
	fs.StringVar(&c.healthAddr, "health-probe-bind-address", ":8081", "address of /healthz and /readyz (0 disables)")
	fs.IntVar(&c.verbosity, "v", 0, "log verbosity")
	fs.StringVar(&c.pprofAddr, "pprof-bind-address", "", "address of /debug/pprof (empty disables)")
	bindAuditFlag(fs, c)
	c.clusters.BindFlags(fs)
	c.election.BindFlags(fs)
	c.reconcile.BindFlags(fs)
	c.controller.BindFlags(fs)
	c.flinkREST.BindFlags(fs)
	c.tracing.BindFlags(fs)
	c.webhook.BindFlags(fs)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	return c, errors.Join(c.clusters.Validate(), c.election.Validate(), c.reconcile.Validate(), c.controller.Validate(),
		c.flinkREST.Validate(), c.tracing.Validate(), c.webhook.Validate())
}

// run parses args, runs the hub until ctx ends and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		if c != nil {
			fmt.Fprintf(stderr, "flink-hub: %v\n", err)
		}
		return 2
	}
	if c.showVersion {
		fmt.Fprintf(stdout, "flink-hub %s\n", version)
		return 0
	}
	logger := observability.WithoutQueueItemDumps(textlogger.NewLogger(textlogger.NewConfig(textlogger.Verbosity(c.verbosity), textlogger.Output(stderr))))
	ctrllog.SetLogger(logger)
	klog.SetLogger(logger)
	// Printed once the global loggers are set, which is not safe while
	// other goroutines log: a caller running the hub in-process waits for it.
	fmt.Fprintf(stdout, "flink-hub %s\n", version)

	cfg, err := hubConfig(c.kubeconfig)
	if err != nil {
		fmt.Fprintf(stderr, "flink-hub: hub cluster config: %v\n", err)
		return 1
	}
	if err := serve(ctx, cfg, c); err != nil {
		fmt.Fprintf(stderr, "flink-hub: %v\n", err)
		return 1
	}
	return 0
}

// serve wires tracing, sharding, the member machinery and the
// FlinkDeployment controller into one manager and runs it until ctx ends.
// On shutdown the election ends first (it drains in-flight reconciles and
// releases every fence, so peers take over at once), then the manager.
func serve(ctx context.Context, cfg *rest.Config, c *config) error {
	c.tracing.ServiceVersion, c.tracing.Replica = version, c.election.Identity
	tracing, err := observability.SetupTracing(ctx, c.tracing)
	if err != nil {
		return err
	}
	defer func() {
		flushCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = tracing.Shutdown(flushCtx)
	}()

	// Lease renewals must never wait behind a client-side rate limit.
	electionCfg := rest.CopyConfig(cfg)
	electionCfg.QPS, electionCfg.Burst = 100, 200
	cs, err := kubernetes.NewForConfig(electionCfg)
	if err != nil {
		return err
	}
	var requeuer *mcgate.Requeuer
	elector, err := sharding.New(cs, c.clusters.Namespace, c.election.Identity, append(c.election.Options(),
		sharding.WithKeyCount(func(shard int) int { return requeuer.KeyCount(shard) }),
		sharding.WithLogger(ctrllog.Log.WithName("sharding")))...)
	if err != nil {
		return err
	}
	c.clusters.Placer = placer{elector}
	c.clusters.MemberUserAgent = "flink-hub/" + c.election.Identity
	// One replica writes each member's status: the owner of its key.
	c.clusters.OwnsMember = func(member string) bool { return elector.Owns(memberstatus.ShardKey(member)) }
	resolver, err := flinkrest.NewResolver(c.flinkREST)
	if err != nil {
		return err
	}
	// A member's Flink REST connections go with it.
	c.clusters.OnMemberDisengaged = resolver.Forget
	memberCache := flinkdeployment.MemberCacheOptions()
	c.clusters.MemberCacheByObject, c.clusters.MemberCacheTransform = memberCache.ByObject, memberCache.DefaultTransform
	hub, err := clusters.New(cfg, c.clusters, manager.Options{
		Metrics:                metricsserver.Options{BindAddress: c.metricsAddr},
		HealthProbeBindAddress: c.healthAddr,
		PprofBindAddress:       c.pprofAddr,
	})
	if err != nil {
		return err
	}
	mgr := hub.Manager
	if err := webhook.Setup(mgr, cs, c.clusters.Namespace, c.webhook); err != nil {
		return err
	}
	hubReady, err := observability.APIServerChecker(cfg, 2*time.Second)
	if err != nil {
		return err
	}
	for name, check := range map[string]healthz.Checker{
		"hub-apiserver": hubReady,
		"caches":        observability.CacheSyncedChecker(mgr.GetLocalManager().GetCache()),
		"sharding":      elector.ReadyzCheck,
	} {
		if err := mgr.AddReadyzCheck(name, check); err != nil {
			return err
		}
	}
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return err
	}

	// Every acquired shard is a short span, so a trace search by replica
	// shows when it took over which shards.
	elector.OnAcquire(func(shard int) {
		_, span := observability.Tracer().Start(context.Background(), "Acquire shard",
			trace.WithAttributes(observability.AttrShard.Int(shard), observability.AttrReplica.String(c.election.Identity)))
		span.End()
	})
	elector.OnRelease(func(shard int, reason string) {
		_, span := observability.Tracer().Start(context.Background(), "Release shard",
			trace.WithAttributes(observability.AttrShard.Int(shard), observability.AttrReplica.String(c.election.Identity), attribute.String("flinkhub.reason", reason)))
		span.End()
	})
	requeuer = mcgate.NewRequeuer(elector, func() client.ObjectList { return &flinkv1beta1.FlinkDeploymentList{} })
	if err := mgr.Add(requeuer); err != nil {
		return err
	}
	r := &flinkdeployment.Reconciler{
		Clusters: mgr,
		Deployers: map[flinkv1beta1.KubernetesDeploymentMode]deployer.Deployer{
			flinkv1beta1.ModeNative:     native.New(),
			flinkv1beta1.ModeStandalone: standalone.New(),
		},
		JobManagers: flinkdeployment.RESTClients(resolver, flinkrest.WithTimeout(c.flinkREST.Timeout)),
		Options:     c.reconcile,
	}
	var audit func(string, bool)
	if c.auditFile != "" {
		w, err := reconcileaudit.Open(c.auditFile, c.election.Identity)
		if err != nil {
			return err
		}
		defer w.Close()
		audit = w.Record
	}
	if err := r.SetupWithManager(mgr, flinkdeployment.SetupOptions{
		Gate:                    elector,
		Replica:                 c.election.Identity,
		ShardOf:                 elector.ShardOf,
		MaxConcurrentReconciles: c.controller.MaxConcurrentReconciles,
		MemberWorkerShare:       c.controller.MemberWorkerShare,
		Sources:                 []source.TypedSource[mcreconcile.Request]{requeuer.Source()},
		Audit:                   audit,
	}); err != nil {
		return fmt.Errorf("FlinkDeployment controller: %w", err)
	}

	mgrCtx, stopMgr := context.WithCancel(context.WithoutCancel(ctx))
	mgrDone := make(chan error, 1)
	go func() { mgrDone <- mgr.Start(mgrCtx) }()
	err = elector.Run(ctx)
	stopMgr()
	if merr := <-mgrDone; merr != nil && !errors.Is(merr, context.Canceled) {
		err = errors.Join(err, merr)
	}
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
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

func hubConfig(kubeconfig string) (*rest.Config, error) {
	var cfg *rest.Config
	var err error
	if kubeconfig != "" {
		cfg, err = clientcmd.BuildConfigFromFlags("", kubeconfig)
	} else {
		cfg, err = ctrlconfig.GetConfig()
	}
	if err != nil {
		return nil, err
	}
	// client-go's default of 5 requests per second would make releasing 64
	// shard fences at shutdown take many seconds.
	if cfg.QPS < 50 {
		cfg.QPS, cfg.Burst = 50, 100
	}
	return cfg, nil
}
