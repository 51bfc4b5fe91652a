package fleetapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	fleetv1 "github.com/flink-hub/flink-hub/apis/fleet/v1"
	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/clusters/fleetapi"
	"github.com/flink-hub/flink-hub/internal/clusters/fleetindex"
)

// TestSummaryAcrossReplicas: a replica's summary counts its own members
// and its peers', a member two replicas serve once, and the matches of
// the filters it forwards; a peer that does not answer is named, and a
// filter over its bound is refused with why.
func TestSummaryAcrossReplicas(t *testing.T) {
	ctx := context.Background()
	const ns = "fleet-summary"
	token := fleetReader(t, ctx, ns)
	ixA, ixB := fleetindex.New(), fleetindex.New()
	both := []fleetindex.Deployment{ // member-2: served by both replicas
		{Cluster: "member-2", Namespace: "ns", Name: "shared", LifecycleState: "STABLE", JobState: "RUNNING"},
		{Kind: fleetv1.KindFlinkSessionJob, Cluster: "member-2", Namespace: "ns", Name: "etl", LifecycleState: "UPGRADING", JobState: "FAILED", Error: "job failed"},
	}
	for _, d := range both {
		ixA.UpsertDeployment(d)
		ixB.UpsertDeployment(d)
	}
	ixA.UpsertDeployment(fleetindex.Deployment{Cluster: "member-1", Namespace: "ns", Name: "a", LifecycleState: "STABLE", JobState: "RUNNING"})
	ixB.UpsertDeployment(fleetindex.Deployment{Cluster: "member-3", Namespace: "ns", Name: "b", LifecycleState: "DEPLOYED", JobState: "FAILED", Error: "no slots"})
	addrB := startFleetServer(t, &fleetapi.Fleet{Index: ixB}, ns, ctx)
	peers := []fleetapi.Peer{{ID: "hub-b", Address: addrB}}
	addrA := startFleetServer(t, &fleetapi.Fleet{Index: ixA, Peers: func() []fleetapi.Peer { return peers }}, ns, ctx)

	for _, tc := range []struct {
		query string
		want  map[string][2]int // cluster: total, matched
	}{
		{"", map[string][2]int{"member-1": {1, 1}, "member-2": {2, 2}, "member-3": {1, 1}}},
		{"anyState=failed", map[string][2]int{"member-1": {1, 0}, "member-2": {2, 1}, "member-3": {1, 1}}},
		{"q=" + url.QueryEscape("NO SLOTS"), map[string][2]int{"member-1": {1, 0}, "member-2": {2, 0}, "member-3": {1, 1}}},
		{"cluster=member-2", map[string][2]int{"member-1": {1, 0}, "member-2": {2, 2}, "member-3": {1, 0}}},
	} {
		var s fleetv1.Summary
		if err := framework.FleetGet(ctx, addrA, token, fleetv1.SummaryPath+"?"+tc.query, &s); err != nil {
			t.Fatal(err)
		}
		got := map[string][2]int{}
		for _, c := range s.Clusters {
			got[c.Cluster] = [2]int{c.Total, c.Matched}
		}
		if len(s.Incomplete) > 0 || !maps.Equal(got, tc.want) {
			t.Errorf("?%s: %v (incomplete %v), want %v", tc.query, got, s.Incomplete, tc.want)
		}
		if tc.query == "" && (s.Clusters[1].ByState["FAILED"] != 1 || s.Clusters[1].ByState["RUNNING"] != 1 || strings.Join(s.Clusters[1].States, ",") != "FAILED,RUNNING,STABLE,UPGRADING") {
			t.Errorf("member-2 counted by state %v, states %v", s.Clusters[1].ByState, s.Clusters[1].States)
		}
	}

	checkOlderPeer(t, ctx, addrA, token, &peers)

	peers = append(peers, fleetapi.Peer{ID: "hub-gone"})
	var s fleetv1.Summary
	if err := framework.FleetGet(ctx, addrA, token, fleetv1.SummaryPath, &s); err != nil || len(s.Incomplete) != 1 || !strings.Contains(s.Incomplete[0], "hub-gone") || len(s.Clusters) != 3 {
		t.Fatalf("a peer without an address: %v, %+v", err, s)
	}
	for _, path := range []string{fleetv1.SummaryPath, fleetv1.DeploymentsPath, fleetv1.SessionJobsPath} {
		err := framework.FleetGet(ctx, addrA, token, path+"?q="+strings.Repeat("x", 254), nil)
		var fe *framework.FleetError
		if !errors.As(err, &fe) || fe.Status != http.StatusBadRequest || !strings.Contains(fe.Message, "q: longer than 253 characters") {
			t.Errorf("%s with a long text: %v, want 400 that says why", path, err)
		}
	}
}

// checkOlderPeer: lists forward the same filters to the peers, and apply
// them to what a peer of an older hub, which knows fewer filters, answers;
// its missing summary is named.
func checkOlderPeer(t *testing.T, ctx context.Context, addrA, token string, peers *[]fleetapi.Peer) {
	t.Helper()
	old := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != fleetv1.DeploymentsPath {
			http.NotFound(w, r)
			return
		}
		_ = json.NewEncoder(w).Encode(fleetapi.DeploymentList{Items: []fleetv1.Deployment{
			{Kind: fleetv1.KindFlinkDeployment, Cluster: "member-4", Namespace: "ns", Name: "c", JobState: "FAILED", Error: "no slots"},
			{Kind: fleetv1.KindFlinkDeployment, Cluster: "member-4", Namespace: "ns", Name: "d", JobState: "RUNNING"},
			{Kind: fleetv1.KindFlinkDeployment, Cluster: "member-4", Namespace: "ns", Name: "e", JobState: "FAILED", Error: "bad jar"},
		}})
	}))
	t.Cleanup(old.Close)
	*peers = append(*peers, fleetapi.Peer{ID: "hub-old", Address: strings.TrimPrefix(old.URL, "https://")})
	var list fleetapi.DeploymentList
	if err := framework.FleetGet(ctx, addrA, token, fleetv1.DeploymentsPath+"?anyState=failed&q=SLOTS", &list); err != nil || strings.Join(rowKeys(list.Items), " ") != "member-3/ns/b member-4/ns/c" {
		t.Fatalf("failed rows with slots in them: %v %v", err, rowKeys(list.Items))
	}
	var s fleetv1.Summary
	if err := framework.FleetGet(ctx, addrA, token, fleetv1.SummaryPath, &s); err != nil || len(s.Incomplete) != 1 || !strings.Contains(s.Incomplete[0], "hub-old: answered 404") {
		t.Fatalf("a peer without summaries: %v, %+v", err, s)
	}
	*peers = (*peers)[:1]
}
