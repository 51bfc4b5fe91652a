package observability_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/flink-hub/flink-hub/e2e/framework"
)

var (
	member *framework.ControlPlane
	jaeger *framework.Jaeger
)

func TestMain(m *testing.M) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var err error
	if member, err = framework.StartControlPlane(framework.ControlPlaneOptions{Name: "member-1"}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if jaeger, err = framework.StartJaeger(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		_ = member.Stop()
		os.Exit(1)
	}
	code := m.Run()
	if err := jaeger.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	if err := member.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.Exit(code)
}
