package chart_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/flink-hub/flink-hub/e2e/framework"
)

// fleet is a bare hub control plane (the chart brings the hub's CRDs) and
// one member, for the install test.
var fleet *framework.Fleet

func TestMain(m *testing.M) {
	var err error
	fleet, err = framework.StartFleet(framework.FleetOptions{Members: 1})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	if err := fleet.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	os.Exit(code)
}
