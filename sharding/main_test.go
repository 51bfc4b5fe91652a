package sharding

import (
	"fmt"
	"os"
	"testing"

	"github.com/flink-hub/flink-hub/e2e/framework"
)

// hub is a real kube-apiserver + etcd shared by the Elector tests; each test
// uses its own namespace.
var hub *framework.ControlPlane

func TestMain(m *testing.M) {
	var err error
	hub, err = framework.StartControlPlane(framework.ControlPlaneOptions{Name: "sharding-hub"})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	if err := hub.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.Exit(code)
}
