package fleetapi

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/flink-hub/flink-hub/clusters/fleetindex"
)

func TestServerFilters(t *testing.T) {
	ix := fleetindex.New()
	for _, d := range []fleetindex.Deployment{
		{Cluster: "m1", Namespace: "a", Name: "x", LifecycleState: "STABLE"},
		{Cluster: "m1", Namespace: "a", Name: "y", LifecycleState: "FAILED"},
		{Cluster: "m2", Namespace: "b", Name: "x", LifecycleState: "STABLE"},
	} {
		ix.UpsertDeployment(d)
	}
	ix.UpsertCluster(fleetindex.Cluster{Name: "m1", Ready: true, Reason: "Reachable"})
	ix.UpsertCluster(fleetindex.Cluster{Name: "m2", Reason: "Unreachable"})

	ctx, cancel := context.WithCancel(context.Background())
	srv := NewServer("127.0.0.1:0", ix)
	done := make(chan error, 1)
	go func() { done <- srv.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server: %v", err)
		}
	})
	waitCtx, stop := context.WithTimeout(ctx, 10*time.Second)
	defer stop()
	addr, err := srv.Addr(waitCtx)
	if err != nil {
		t.Fatal(err)
	}
	get := func(t *testing.T, path string, into any) {
		t.Helper()
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("GET %s: %s %s", path, resp.Status, resp.Header.Get("Content-Type"))
		}
		if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
			t.Fatal(err)
		}
	}

	cases := []struct {
		query string
		want  []string
	}{
		{"", []string{"m1/a/x", "m1/a/y", "m2/b/x"}},
		{"?cluster=m1", []string{"m1/a/x", "m1/a/y"}},
		{"?state=STABLE", []string{"m1/a/x", "m2/b/x"}},
		{"?cluster=m2&state=FAILED", []string{}},
		{"?namespace=b", []string{"m2/b/x"}},
	}
	for _, tc := range cases {
		t.Run("deployments"+tc.query, func(t *testing.T) {
			var list DeploymentList
			get(t, "/fleet/v1/deployments"+tc.query, &list)
			got := []string{}
			for _, d := range list.Items {
				got = append(got, d.Key().String())
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
	t.Run("clusters", func(t *testing.T) {
		var list ClusterList
		get(t, "/fleet/v1/clusters", &list)
		if len(list.Items) != 2 || list.Items[0].Name != "m1" || list.Items[0].Deployments != 2 || list.Items[1].Ready {
			t.Fatalf("clusters = %+v", list.Items)
		}
	})
	t.Run("read-only", func(t *testing.T) {
		resp, err := http.Post("http://"+addr+"/fleet/v1/deployments", "application/json", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Fatalf("POST answered %s, want 405", resp.Status)
		}
	})
}
