package conformance

import (
	"fmt"
	"os"
	"testing"

	"github.com/flink-hub/flink-hub/e2e/framework"
)

// ours has flink-hub's CRD, upstream the Apache operator's.
var ours, upstream *framework.ControlPlane

func TestMain(m *testing.M) {
	planes, err := framework.StartControlPlanes(
		framework.ControlPlaneOptions{Name: "ours", CRDDirs: []string{framework.CRDDir()}},
		framework.ControlPlaneOptions{Name: "upstream", CRDDirs: []string{framework.UpstreamCRDDir()}},
	)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ours, upstream = planes[0], planes[1]
	code := m.Run()
	if err := framework.StopControlPlanes(planes...); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.Exit(code)
}
