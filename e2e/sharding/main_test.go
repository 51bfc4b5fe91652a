package sharding

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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
	replicaBin = filepath.Join(dir, "replica")
	args := []string{"build", "-o", replicaBin}
	if os.Getenv("SHARDING_E2E_RACE") != "" {
		args = append(args, "-race") // a race makes a replica exit non-zero
	}
	build := exec.Command("go", append(args, "./replica")...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build replica:", err)
		return 1
	}
	fleet, err = framework.StartFleet(framework.FleetOptions{Members: 2})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	code := m.Run()
	if err := fleet.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	return code
}
