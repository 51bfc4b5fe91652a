package fleetapi_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"

	fleetv1 "github.com/flink-hub/flink-hub/apis/fleet/v1"
	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/clusters/fleetapi"
	"github.com/flink-hub/flink-hub/internal/clusters/fleetindex"
)

// hub is a real kube-apiserver the fleet API reviews tokens and access with.
var hub *framework.ControlPlane

func TestMain(m *testing.M) {
	var err error
	hub, err = framework.StartControlPlane(framework.ControlPlaneOptions{Name: "hub", CRDDirs: []string{framework.CRDDir()}})
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

// startServer serves ix for the hub namespace ns and returns its address.
func startServer(t *testing.T, ix *fleetindex.Index, ns string) string {
	t.Helper()
	return startFleetServer(t, &fleetapi.Fleet{Index: ix}, ns, context.Background())
}

// startFleetServer serves fleet for the hub namespace ns until ctx ends
// or t does, and returns its address.
func startFleetServer(t *testing.T, fleet *fleetapi.Fleet, ns string, parent context.Context) string {
	t.Helper()
	ctx, cancel := context.WithCancel(parent)
	srv, err := fleetapi.NewServer("127.0.0.1:0", fleetapi.Handler(fleet, nil), hub.Config, ns, 0)
	if err != nil {
		t.Fatal(err)
	}
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
	return addr
}

// fleetReader creates namespace ns in the hub and returns the token of a
// fleet reader there.
func fleetReader(t *testing.T, ctx context.Context, ns string) string {
	t.Helper()
	if err := hub.CreateNamespace(ctx, ns); err != nil {
		t.Fatal(err)
	}
	token, err := hub.ServiceAccountToken(ctx, ns, "reader", framework.FleetReaderRules)
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// TestCallersAreAuthenticatedAndAuthorized: no token or a bad one is 401,
// a token of an identity that may not list MemberClusters in the hub
// namespace is 403 (even one that may list them elsewhere), a reader's
// token in Authorization or in the proxy header is served.
func TestCallersAreAuthenticatedAndAuthorized(t *testing.T) {
	ctx := context.Background()
	const ns = "fleet-auth"
	if err := hub.CreateNamespace(ctx, ns); err != nil {
		t.Fatal(err)
	}
	if err := hub.CreateNamespace(ctx, "elsewhere"); err != nil {
		t.Fatal(err)
	}
	reader, err := hub.ServiceAccountToken(ctx, ns, "reader", framework.FleetReaderRules)
	if err != nil {
		t.Fatal(err)
	}
	nobody, err := hub.ServiceAccountToken(ctx, ns, "nobody", nil)
	if err != nil {
		t.Fatal(err)
	}
	other, err := hub.ServiceAccountToken(ctx, "elsewhere", "reader", framework.FleetReaderRules)
	if err != nil {
		t.Fatal(err)
	}
	ix := fleetindex.New()
	ix.UpsertDeployment(fleetindex.Deployment{Cluster: "m1", Namespace: "a", Name: "x"})
	addr := startServer(t, ix, ns)

	for _, tc := range []struct {
		name, header, value string
		want                int
		msg                 string
	}{
		{"anonymous", "", "", http.StatusUnauthorized, "Unauthorized"},
		{"not a bearer token", "Authorization", "Basic " + reader, http.StatusUnauthorized, "Unauthorized"},
		{"forged token", "Authorization", "Bearer " + reader[:len(reader)-4] + "AAAA", http.StatusUnauthorized, "does not accept the token"},
		{"no access", "Authorization", "Bearer " + nobody, http.StatusForbidden, `"system:serviceaccount:fleet-auth:nobody" cannot list memberclusters.hub.flink-hub.io in namespace "fleet-auth"`},
		{"access in another namespace", "Authorization", "Bearer " + other, http.StatusForbidden, "cannot list memberclusters"},
		{"reader", "Authorization", "Bearer " + reader, http.StatusOK, ""},
		{"reader through the proxy header", fleetapi.TokenHeader, "Bearer " + reader, http.StatusOK, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var list fleetapi.DeploymentList
			err := framework.FleetGetWithHeader(ctx, addr, tc.header, tc.value, "/fleet/v1/deployments", &list)
			var fe *framework.FleetError
			switch {
			case tc.want == http.StatusOK && err != nil:
				t.Fatal(err)
			case tc.want == http.StatusOK:
				if len(list.Items) != 1 || list.Items[0].Name != "x" {
					t.Fatalf("items = %+v", list.Items)
				}
			case !errors.As(err, &fe) || fe.Status != tc.want || !strings.Contains(fe.Message, tc.msg):
				t.Fatalf("got %v, want %d with %q", err, tc.want, tc.msg)
			case strings.Contains(fe.Message, reader) || strings.Contains(fe.Message, nobody):
				t.Fatalf("the answer carries the token: %s", fe.Message)
			}
		})
	}
}

func TestServerFilters(t *testing.T) {
	ctx := context.Background()
	const ns = "fleet-filters"
	if err := hub.CreateNamespace(ctx, ns); err != nil {
		t.Fatal(err)
	}
	token, err := hub.ServiceAccountToken(ctx, ns, "reader", []rbacv1.PolicyRule{framework.FleetReaderRules[0]})
	if err != nil {
		t.Fatal(err)
	}
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
	addr := startServer(t, ix, ns)

	cases := []struct {
		query string
		want  []string
	}{
		{"", []string{"m1/a/x", "m1/a/y", "m2/b/x"}},
		{"?cluster=m1", []string{"m1/a/x", "m1/a/y"}},
		{"?state=STABLE", []string{"m1/a/x", "m2/b/x"}},
		{"?cluster=m2&state=FAILED", []string{}},
		{"?namespace=b", []string{"m2/b/x"}},
		{"?cluster=m1&namespace=a&name=y", []string{"m1/a/y"}},
		{"?name=x", []string{"m1/a/x", "m2/b/x"}},
	}
	for _, tc := range cases {
		t.Run("deployments"+tc.query, func(t *testing.T) {
			var list fleetapi.DeploymentList
			if err := framework.FleetGet(ctx, addr, token, "/fleet/v1/deployments"+tc.query, &list); err != nil {
				t.Fatal(err)
			}
			got := []string{}
			for _, d := range list.Items {
				got = append(got, fleetindex.KeyOf(&d).String())
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
	t.Run("clusters", func(t *testing.T) {
		var list fleetapi.ClusterList
		if err := framework.FleetGet(ctx, addr, token, "/fleet/v1/clusters", &list); err != nil {
			t.Fatal(err)
		}
		if len(list.Items) != 2 || list.Items[0].Name != "m1" || list.Items[0].Deployments != 2 || list.Items[1].Ready {
			t.Fatalf("clusters = %+v", list.Items)
		}
	})
	t.Run("read-only", func(t *testing.T) {
		err := framework.FleetDo(ctx, http.MethodPost, addr, "Authorization", "Bearer "+token, "/fleet/v1/deployments", nil)
		var fe *framework.FleetError
		if !errors.As(err, &fe) || fe.Status != http.StatusMethodNotAllowed {
			t.Fatalf("POST answered %v, want 405", err)
		}
	})
}

// TestReplicasAskEachOther: with a member spread each replica indexes the
// members it serves; the fleet API answers for the whole fleet by asking
// its peers with the caller's token (a peer reviews it as any caller), each
// row once; ?scope=local answers from the replica's own index; a peer
// that does not answer is named in Incomplete, never silently left out.
func TestReplicasAskEachOther(t *testing.T) {
	ctx := context.Background()
	const ns = "fleet-peers"
	token := fleetReader(t, ctx, ns)
	ixA, ixB := fleetindex.New(), fleetindex.New()
	ixA.UpsertDeployment(fleetindex.Deployment{Kind: fleetv1.KindFlinkDeployment, Cluster: "m1", Namespace: "a", Name: "x"})
	ixB.UpsertDeployment(fleetindex.Deployment{Kind: fleetv1.KindFlinkDeployment, Cluster: "m2", Namespace: "b", Name: "y"})
	// m3 is served by both (a member spread over two replicas).
	for _, ix := range []*fleetindex.Index{ixA, ixB} {
		ix.UpsertDeployment(fleetindex.Deployment{Kind: fleetv1.KindFlinkDeployment, Cluster: "m3", Namespace: "c", Name: "z"})
	}
	bCtx, stopB := context.WithCancel(ctx)
	addrB := startFleetServer(t, &fleetapi.Fleet{Index: ixB}, ns, bCtx)
	var peers atomic.Pointer[[]fleetapi.Peer]
	peers.Store(&[]fleetapi.Peer{{ID: "hub-b", Address: addrB}})
	addrA := startFleetServer(t, &fleetapi.Fleet{Index: ixA, Peers: func() []fleetapi.Peer { return *peers.Load() }}, ns, ctx)

	keys := func(l fleetapi.DeploymentList) string {
		var out []string
		for _, d := range l.Items {
			out = append(out, d.Cluster+"/"+d.Name)
		}
		return strings.Join(out, ",")
	}
	var all, local fleetapi.DeploymentList
	if err := framework.FleetGet(ctx, addrA, token, fleetv1.DeploymentsPath, &all); err != nil {
		t.Fatal(err)
	}
	if keys(all) != "m1/x,m2/y,m3/z" || len(all.Incomplete) != 0 {
		t.Fatalf("the fleet from replica a: %s (incomplete %v), want m1/x,m2/y,m3/z", keys(all), all.Incomplete)
	}
	if err := framework.FleetGet(ctx, addrA, token, fleetv1.DeploymentsPath+"?scope=local", &local); err != nil {
		t.Fatal(err)
	}
	if keys(local) != "m1/x,m3/z" {
		t.Fatalf("replica a's own rows: %s", keys(local))
	}
	// Filters travel to the peers.
	var m2, named fleetapi.DeploymentList
	if err := framework.FleetGet(ctx, addrA, token, fleetv1.DeploymentsPath+"?cluster=m2", &m2); err != nil || keys(m2) != "m2/y" {
		t.Fatalf("cluster=m2 from replica a: %s, %v", keys(m2), err)
	}
	if err := framework.FleetGet(ctx, addrA, token, fleetv1.DeploymentsPath+"?cluster=m2&namespace=b&name=y", &named); err != nil || keys(named) != "m2/y" {
		t.Fatalf("m2/b/y by name from replica a: %s, %v", keys(named), err)
	}
	// A peer that is gone is named, and the rest is served.
	stopB()
	framework.Await(t, "replica b named as missing", func() error {
		var partial fleetapi.DeploymentList
		if err := framework.FleetGet(ctx, addrA, token, fleetv1.DeploymentsPath, &partial); err != nil {
			return err
		}
		if keys(partial) != "m1/x,m3/z" || len(partial.Incomplete) != 1 || !strings.Contains(partial.Incomplete[0], "hub-b") {
			return fmt.Errorf("%s, incomplete %v", keys(partial), partial.Incomplete)
		}
		return nil
	})
	// A peer without an address is reported too.
	peers.Store(&[]fleetapi.Peer{{ID: "hub-c"}})
	var noAddr fleetapi.DeploymentList
	if err := framework.FleetGet(ctx, addrA, token, fleetv1.DeploymentsPath, &noAddr); err != nil {
		t.Fatal(err)
	}
	if len(noAddr.Incomplete) != 1 || !strings.Contains(noAddr.Incomplete[0], "fleet-advertise-address") {
		t.Fatalf("a peer without an address: incomplete %v", noAddr.Incomplete)
	}
}
