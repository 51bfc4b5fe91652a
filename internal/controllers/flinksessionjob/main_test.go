package flinksessionjob_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	mcmanager "sigs.k8s.io/multicluster-runtime/pkg/manager"

	"github.com/flink-hub/flink-hub/e2e/flinksim"
	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/controllers/flinkdeployment"
	"github.com/flink-hub/flink-hub/internal/controllers/flinksessionjob"
	"github.com/flink-hub/flink-hub/internal/controllers/hubtest"
	"github.com/flink-hub/flink-hub/internal/defaults"
	"github.com/flink-hub/flink-hub/internal/flinkrest"
	"github.com/flink-hub/flink-hub/internal/jarfetch"
)

const memberName = hubtest.MemberName

// reconcileTimeout is the session job controller's reconcile deadline.
const reconcileTimeout = 8 * time.Second

var (
	fleet  *framework.Fleet
	sim    *flinksim.Simulator
	simURL string
	// memberDefaults are the hub's default configuration (empty but for
	// the tests that set some).
	memberDefaults = &defaults.Store{}
)

func TestMain(m *testing.M) {
	ctrllog.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.Level(zapcore.ErrorLevel)))
	os.Exit(framework.RunWithFleet(hubTests{m}, framework.FleetOptions{Members: 1}, func(f *framework.Fleet) { fleet = f }, true))
}

// hubTests runs the tests against the fleet's member, played by the
// simulator, and a hub with both controllers, talking to the member with
// the identity `cluster add` gives it.
type hubTests struct{ m *testing.M }

// Run starts the simulator and the hub, runs the tests and stops both.
func (h hubTests) Run() int {
	cacheDir, err := os.MkdirTemp("", "flinksessionjob-jars-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(cacheDir)
	hub, err := hubtest.Start(fleet.Hub, fleet.Members[0], func(mgr mcmanager.Manager, resolver *flinkrest.Resolver) error {
		return setupControllers(mgr, resolver, filepath.Join(cacheDir, "jars"))
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer hub.Stop()
	sim, simURL = hub.Sim, hub.SimURL
	return h.m.Run()
}

// setupControllers adds both controllers to mgr; jars are cached in
// cacheDir and fetched from the artifact servers on loopback.
func setupControllers(mgr mcmanager.Manager, resolver *flinkrest.Resolver, cacheDir string) error {
	if _, err := hubtest.FlinkDeployments(mgr, resolver); err != nil {
		return err
	}
	jarOpts := jarfetch.DefaultOptions()
	jarOpts.CacheDir, jarOpts.AllowPrivateNetworks = cacheDir, true
	jars, err := jarfetch.New(jarOpts)
	if err != nil {
		return err
	}
	// A reconcile deadline shorter than a slow upload
	// (TestSlowAndStalledJarUploads); no other reconcile of a session job
	// waits.
	opts := hubtest.Options()
	opts.ReconcileTimeout = reconcileTimeout
	sj := &flinksessionjob.Reconciler{Clusters: mgr, JobManagers: flinkdeployment.RESTClients(resolver), Jars: jars, Options: opts, Defaults: memberDefaults}
	return sj.SetupWithManager(mgr, flinksessionjob.SetupOptions{Gate: hubtest.AllowAll{}, Replica: "test", MaxConcurrentReconciles: 4, MemberWorkerShare: 1})
}
