package sharding

import (
	"fmt"
	"os"
	"testing"

	"github.com/flink-hub/flink-hub/e2e/framework"
)

var (
	fleet      *framework.Fleet
	replicaBin string
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "sharding-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = os.RemoveAll(dir) }()
	// Under -race the replicas detect races too and exit at the first one.
	if replicaBin, err = framework.Build("./e2e/sharding/replica"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return framework.RunWithFleet(m, framework.FleetOptions{Members: 2}, func(f *framework.Fleet) { fleet = f }, true)
}
