package chart_test

import (
	"os"
	"testing"

	"github.com/flink-hub/flink-hub/e2e/framework"
)

// fleet is a bare hub control plane (the chart brings the hub's CRDs) and
// one member, for the install test.
var fleet *framework.Fleet

func TestMain(m *testing.M) {
	// The chart's hub is refused what it must not do: no refusals check.
	os.Exit(framework.RunWithFleet(m, framework.FleetOptions{Members: 1}, func(f *framework.Fleet) { fleet = f }, false))
}
