// Package hubtest runs the hub's controllers for end-to-end tests: a
// manager whose one member is a test fleet's control plane, reached with
// the identity `cluster add` gives the hub, and whose JobManagers are the
// Flink simulator's. The controllers' test packages share it.
package hubtest

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/cluster"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	mcmanager "sigs.k8s.io/multicluster-runtime/pkg/manager"
	"sigs.k8s.io/multicluster-runtime/providers/clusters"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/e2e/flinksim"
	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/controllers/flinkdeployment"
	"github.com/flink-hub/flink-hub/internal/deployer"
	"github.com/flink-hub/flink-hub/internal/deployer/native"
	"github.com/flink-hub/flink-hub/internal/deployer/standalone"
	"github.com/flink-hub/flink-hub/internal/flinkrest"
	"github.com/flink-hub/flink-hub/internal/memberevents"
)

// MemberName is the member's name in the hub.
const MemberName = "member-1"

// AllowAll owns every key: a single replica.
type AllowAll struct{}

// Owns reports that every key is owned.
func (AllowAll) Owns(string) bool { return true }

// Begin admits every reconcile.
func (AllowAll) Begin(ctx context.Context, _ string) (context.Context, func(error), bool) {
	return ctx, func(error) {}, true
}

// Options are the FlinkDeployment controller's options with fast test
// timings.
func Options() flinkdeployment.Options {
	opts := flinkdeployment.DefaultOptions()
	opts.ProgressCheckInterval, opts.ReconcileInterval, opts.ReadinessTimeout = 500*time.Millisecond, 5*time.Second, 20*time.Second
	opts.StateSizeInterval = opts.ReconcileInterval
	return opts
}

// Hub is a running test hub.
type Hub struct {
	// Sim plays the member's JobManagers.
	Sim *flinksim.Simulator
	// SimURL serves the simulated JobManagers' REST APIs, each under
	// /{member}/{namespace}/{name}/.
	SimURL string
	// Member is the hub's member cluster (its identity and cache).
	Member cluster.Cluster
	stop   func()
}

// Stop stops the hub and the simulator.
func (h *Hub) Stop() { h.stop() }

// Setup adds controllers to mgr; resolver reaches the simulator.
type Setup func(mgr mcmanager.Manager, resolver *flinkrest.Resolver) error

// Start starts the simulator for member and a hub manager with the
// controllers setup adds.
func Start(hubCluster, member *framework.ControlPlane, setup Setup) (*Hub, error) {
	sim := flinksim.New(flinksim.Options{StartDelay: 200 * time.Millisecond, CheckpointInterval: time.Second})
	if err := sim.AddMember(MemberName, member.Config); err != nil {
		return nil, err
	}
	srv := httptest.NewServer(sim.Handler())
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	h := &Hub{Sim: sim, SimURL: srv.URL, stop: func() { cancel(); <-stopped; stopServing(sim, srv) }}
	cl, err := startManager(ctx, hubCluster, member, srv.URL, setup, stopped)
	if err != nil {
		cancel()
		stopServing(sim, srv)
		return nil, err
	}
	h.Member = cl
	return h, nil
}

// startManager runs the manager until ctx ends, then closes stopped.
func startManager(ctx context.Context, hubCluster, member *framework.ControlPlane, simURL string, setup Setup, stopped chan<- struct{}) (cluster.Cluster, error) {
	provider := clusters.New()
	mgr, err := mcmanager.New(hubCluster.Config, provider, manager.Options{Scheme: framework.Scheme, Metrics: metricsserver.Options{BindAddress: "0"}})
	if err != nil {
		close(stopped)
		return nil, err
	}
	resolver, err := flinkrest.NewResolver(flinkrest.Options{Transport: flinkrest.TransportURL, URLTemplate: simURL + "/{{.Cluster}}/{{.Namespace}}/{{.Name}}/"})
	if err == nil {
		err = setup(mgr, resolver)
	}
	if err != nil {
		close(stopped)
		return nil, err
	}
	go func() {
		defer close(stopped)
		if err := mgr.Start(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "manager:", err)
		}
	}()
	hubIdentity, err := member.HubIdentity(ctx)
	if err != nil {
		return nil, err
	}
	cl, err := cluster.New(hubIdentity, func(o *cluster.Options) {
		o.Scheme = framework.Scheme
		o.Cache = flinkdeployment.MemberCacheOptions()
	})
	if err != nil {
		return nil, err
	}
	// Events go through memberevents, as the hub's provider has them.
	if cl, err = memberevents.Start(ctx, cl); err != nil {
		return nil, err
	}
	return cl, provider.Add(ctx, MemberName, cl)
}

// FlinkDeployments adds the FlinkDeployment controller, with Options and
// every key owned, to mgr.
func FlinkDeployments(mgr mcmanager.Manager, resolver *flinkrest.Resolver) (*flinkdeployment.Reconciler, error) {
	r := &flinkdeployment.Reconciler{
		Clusters:    mgr,
		Deployers:   map[v1beta1.KubernetesDeploymentMode]deployer.Deployer{v1beta1.ModeNative: native.New(), v1beta1.ModeStandalone: standalone.New()},
		JobManagers: flinkdeployment.RESTClients(resolver),
		Options:     Options(),
	}
	// One member: nothing to share the workers with.
	return r, r.SetupWithManager(mgr, flinkdeployment.SetupOptions{Gate: AllowAll{}, Replica: "test", MemberWorkerShare: 1})
}

// stopServing stops the simulated JobManagers, then their server: a
// handler that holds a request on purpose (a stalled upload, a hang) ends
// when its JobManager stops, and httptest.Server.Close waits for every
// active handler. Connections the stop did not end are closed first.
func stopServing(sim *flinksim.Simulator, srv *httptest.Server) {
	sim.Stop()
	srv.CloseClientConnections()
	srv.Close()
}
