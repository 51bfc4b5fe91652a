package observability_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/observability"
)

func TestAPIServerCheckerFollowsTheHub(t *testing.T) {
	hub, err := framework.StartControlPlane(framework.ControlPlaneOptions{Name: "hub"})
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			_ = hub.Stop()
		}
	}()
	check, err := observability.APIServerChecker(hub.Config, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	probe := func() error { return check(httptest.NewRequest("GET", "/readyz", nil)) }
	if err := probe(); err != nil {
		t.Fatalf("hub is up, probe says %v", err)
	}
	if err := hub.Stop(); err != nil {
		t.Fatal(err)
	}
	stopped = true
	err = framework.Eventually(context.Background(), 20*time.Second, func(context.Context) (bool, error) {
		return probe() != nil, nil
	})
	if err != nil {
		t.Fatalf("probe still passes with the hub stopped: %v", err)
	}
}
