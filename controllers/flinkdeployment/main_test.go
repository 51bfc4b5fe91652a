package flinkdeployment_test

import (
	"context"
	"flag"
	"fmt"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
	"sigs.k8s.io/controller-runtime/pkg/cluster"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	mcmanager "sigs.k8s.io/multicluster-runtime/pkg/manager"
	"sigs.k8s.io/multicluster-runtime/providers/clusters"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/controllers/deployer"
	"github.com/flink-hub/flink-hub/controllers/deployer/native"
	"github.com/flink-hub/flink-hub/controllers/deployer/standalone"
	"github.com/flink-hub/flink-hub/controllers/flinkdeployment"
	"github.com/flink-hub/flink-hub/controllers/flinkrest"
	"github.com/flink-hub/flink-hub/e2e/flinksim"
	"github.com/flink-hub/flink-hub/e2e/framework"
)

const memberName = "member-1"

var (
	fleet *framework.Fleet
	sim   *flinksim.Simulator
	// memberCluster is the hub's member cluster (its identity and cache);
	// reconciler is the hub's reconciler.
	memberCluster cluster.Cluster
	reconciler    *flinkdeployment.Reconciler
)

// allowAll owns every key: a single replica.
type allowAll struct{}

func (allowAll) Owns(string) bool { return true }
func (allowAll) Begin(ctx context.Context, _ string) (context.Context, func(), bool) {
	return ctx, func() {}, true
}

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctrllog.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.Level(zapcore.ErrorLevel)))
	// `go test -fuzz` runs pure functions in many worker processes: no
	// control planes for them.
	flag.Parse()
	if f := flag.Lookup("test.fuzz"); f != nil && f.Value.String() != "" {
		return m.Run()
	}
	var err error
	fleet, err = framework.StartFleet(framework.FleetOptions{Members: 1})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() {
		if err := fleet.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}()
	member := fleet.Members[0]

	sim = flinksim.New(flinksim.Options{StartDelay: 200 * time.Millisecond, CheckpointInterval: time.Second})
	if err := sim.AddMember(memberName, member.Config); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer sim.Stop()
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()

	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	defer func() { cancel(); <-stopped }()

	provider := clusters.New()
	mgr, err := mcmanager.New(fleet.Hub.Config, provider, manager.Options{
		Scheme:  framework.Scheme,
		Metrics: metricsserver.Options{BindAddress: "0"},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	resolver, err := flinkrest.NewResolver(flinkrest.Options{Transport: flinkrest.TransportURL, URLTemplate: srv.URL + "/{{.Cluster}}/{{.Namespace}}/{{.Name}}/"})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	opts := flinkdeployment.DefaultOptions()
	opts.ProgressCheckInterval = 500 * time.Millisecond
	opts.ReconcileInterval = 5 * time.Second
	opts.ReadinessTimeout = 20 * time.Second
	r := &flinkdeployment.Reconciler{
		Clusters:    mgr,
		Deployers:   map[v1beta1.KubernetesDeploymentMode]deployer.Deployer{v1beta1.ModeNative: native.New(), v1beta1.ModeStandalone: standalone.New()},
		JobManagers: flinkdeployment.RESTClients(resolver),
		Options:     opts,
	}
	if err := r.SetupWithManager(mgr, flinkdeployment.SetupOptions{Gate: allowAll{}, Replica: "test",
		// One member: nothing to share the workers with.
		MemberWorkerShare: 1}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	go func() {
		defer close(stopped)
		if err := mgr.Start(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "manager:", err)
		}
	}()
	// The hub talks to the member with the identity `cluster add` gives
	// it, never as admin; any request the member refuses fails the run.
	hubIdentity, err := member.HubIdentity(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	cl, err := cluster.New(hubIdentity, func(o *cluster.Options) {
		o.Scheme = framework.Scheme
		o.Cache = flinkdeployment.MemberCacheOptions()
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	memberCluster, reconciler = cl, r
	if err := provider.Add(ctx, memberName, cl); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	code := m.Run()
	if err := fleet.CheckNoRefusals(); err != nil {
		fmt.Fprintln(os.Stderr, "the hub's member identity was refused:", err)
		code = 1
	}
	return code
}
