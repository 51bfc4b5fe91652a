package flinkdeployment_test

import (
	"flag"
	"fmt"
	"os"
	"testing"

	"go.uber.org/zap/zapcore"
	"sigs.k8s.io/controller-runtime/pkg/cluster"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	mcmanager "sigs.k8s.io/multicluster-runtime/pkg/manager"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/e2e/flinksim"
	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/controllers/flinkdeployment"
	"github.com/flink-hub/flink-hub/internal/controllers/hubtest"
	"github.com/flink-hub/flink-hub/internal/flinkrest"
	"github.com/flink-hub/flink-hub/internal/problem"
)

const memberName = hubtest.MemberName

var (
	fleet *framework.Fleet
	sim   *flinksim.Simulator
	// memberCluster is the hub's member cluster (its identity and cache);
	// reconciler is the hub's reconciler.
	memberCluster cluster.Cluster
	reconciler    *flinkdeployment.Reconciler
)

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
	return framework.RunWithFleet(hubTests{m}, framework.FleetOptions{Members: 1}, func(f *framework.Fleet) { fleet = f }, true)
}

// hubTests runs the package's tests against the fleet's member, played by
// the simulator, and a hub reconciling it.
type hubTests struct{ m *testing.M }

// Run starts the simulator and the hub, runs the tests and stops both.
// The hub talks to the member with the identity `cluster add` gives it,
// never as admin; any request the member refuses fails the run.
func (h hubTests) Run() int {
	var r *flinkdeployment.Reconciler
	hub, err := hubtest.Start(fleet.Hub, fleet.Members[0], func(mgr mcmanager.Manager, resolver *flinkrest.Resolver) (err error) {
		r, err = hubtest.FlinkDeployments(mgr, resolver)
		return err
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer hub.Stop()
	sim, memberCluster, reconciler = hub.Sim, hub.Member, r
	return h.m.Run()
}

// failure is the problem fd's status.error records.
func failure(fd *v1beta1.FlinkDeployment) problem.Problem { return problem.Decode(fd.Status.Error) }
