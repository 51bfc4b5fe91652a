package flinkstatesnapshot_test

import (
	"fmt"
	"os"
	"testing"

	"go.uber.org/zap/zapcore"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	mcmanager "sigs.k8s.io/multicluster-runtime/pkg/manager"

	"github.com/flink-hub/flink-hub/e2e/flinksim"
	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/controllers/flinkdeployment"
	"github.com/flink-hub/flink-hub/internal/controllers/flinkstatesnapshot"
	"github.com/flink-hub/flink-hub/internal/controllers/hubtest"
	"github.com/flink-hub/flink-hub/internal/flinkrest"
)

const memberName = hubtest.MemberName

var (
	fleet *framework.Fleet
	sim   *flinksim.Simulator
)

func TestMain(m *testing.M) {
	ctrllog.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.Level(zapcore.ErrorLevel)))
	os.Exit(framework.RunWithFleet(hubTests{m}, framework.FleetOptions{Members: 1}, func(f *framework.Fleet) { fleet = f }, true))
}

// hubTests runs the tests against the fleet's member, played by the
// simulator, and a hub with the FlinkDeployment and FlinkStateSnapshot
// controllers, talking to the member with the identity `cluster add`
// gives it.
type hubTests struct{ m *testing.M }

// Run starts the simulator and the hub, runs the tests and stops both.
func (h hubTests) Run() int {
	hub, err := hubtest.Start(fleet.Hub, fleet.Members[0], func(mgr mcmanager.Manager, resolver *flinkrest.Resolver) error {
		if _, err := hubtest.FlinkDeployments(mgr, resolver); err != nil {
			return err
		}
		r := &flinkstatesnapshot.Reconciler{Clusters: mgr, JobManagers: flinkdeployment.RESTClients(resolver), Options: hubtest.Options()}
		return r.SetupWithManager(mgr, flinkstatesnapshot.SetupOptions{Gate: hubtest.AllowAll{}, Replica: "test", MaxConcurrentReconciles: 4, MemberWorkerShare: 1})
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer hub.Stop()
	sim = hub.Sim
	return h.m.Run()
}
