package webhook_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/flink-hub/flink-hub/e2e/framework"
)

// fleet is a hub with the hub CRDs and two members, shared by the
// package's tests; each test uses its own hub namespace and member.
var fleet *framework.Fleet

func TestMain(m *testing.M) {
	var err error
	fleet, err = framework.StartFleet(framework.FleetOptions{Members: 2, HubCRDDirs: []string{framework.CRDDir()}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	if err := fleet.CheckNoRefusals(); err != nil {
		fmt.Fprintln(os.Stderr, "the hub's member identity was refused:", err)
		code = 1
	}
	if err := fleet.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	os.Exit(code)
}
