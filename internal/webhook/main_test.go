package webhook_test

import (
	"os"
	"testing"

	"github.com/flink-hub/flink-hub/e2e/framework"
)

// fleet is a hub with the hub CRDs and two members, shared by the
// package's tests; each test uses its own hub namespace and member.
var fleet *framework.Fleet

func TestMain(m *testing.M) {
	opts := framework.FleetOptions{Members: 2, HubCRDDirs: []string{framework.CRDDir()}}
	os.Exit(framework.RunWithFleet(m, opts, func(f *framework.Fleet) { fleet = f }, true))
}
