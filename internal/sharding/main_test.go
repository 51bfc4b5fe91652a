package sharding

import (
	"os"
	"testing"

	"github.com/flink-hub/flink-hub/e2e/framework"
)

// hub is a real kube-apiserver + etcd shared by the Elector tests; each test
// uses its own namespace.
var hub *framework.ControlPlane

func TestMain(m *testing.M) {
	os.Exit(framework.RunWithControlPlane(m, framework.ControlPlaneOptions{Name: "sharding-hub"}, func(cp *framework.ControlPlane) { hub = cp }))
}
