package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flink-hub/flink-hub/e2e/framework"
)

func TestHubRequestsCell(t *testing.T) {
	fleet := func(perFD map[string]int, upkeep int) *HubRequests {
		return &HubRequests{InFleet: perFD, Upkeep: map[string]int{"update leases": upkeep}}
	}
	for _, tc := range []struct {
		name      string
		n         int
		writes    *HubRequests
		all       float64
		wantFD    string
		wantMet   bool
		wantTotal string
	}{
		{"eight per FlinkDeployment, claims apart", 100, fleet(map[string]int{"patch flinkdeployments/status": 200, "create events": 200, "patch deployments": 300, "get configmaps": 100}, 9), 809, "8.000", true, "8.090"},
		{"a third status patch for one", 100, fleet(map[string]int{"patch flinkdeployments/status": 201, "create events": 200, "patch deployments": 400}, 0), 801, "8.010", false, "8.010"},
		{"a third status patch for one of a thousand", 1000, &HubRequests{InFleet: map[string]int{"patch flinkdeployments/status": 2001, "create events": 2000, "patch deployments": 4000}}, 8001, "8.001", false, "8.001"},
		{"no audit", 100, nil, 800, "8.00", true, ""},
	} {
		c := &Convergence{Replicas: 1, FlinkDeployments: tc.n, HubWrites: tc.all, HubRequestsByResource: tc.writes}
		got := hubRequestsCell(c)
		if !strings.HasPrefix(got, tc.wantFD) || strings.HasSuffix(got, verdict(true)) != tc.wantMet || !strings.Contains(got, tc.wantTotal) {
			t.Errorf("%s: %q, want %s (all %s), met %v", tc.name, got, tc.wantFD, tc.wantTotal, tc.wantMet)
		}
	}
}

func TestHubRequestsTable(t *testing.T) {
	cs := []*Convergence{
		{Replicas: 1, FlinkDeployments: 10, HubRequestsByResource: &HubRequests{InFleet: map[string]int{"create events": 20, "patch flinkdeployments/status": 21}, Upkeep: map[string]int{"update leases": 3}}},
		{Replicas: 3, FlinkDeployments: 10},
	}
	var out strings.Builder
	hubRequestsTable(func(f string, a ...any) { fmt.Fprintf(&out, f, a...) }, cs)
	for _, want := range []string{
		"| verb resource | 1 replica(s) |\n",
		"| patch flinkdeployments/status, per FlinkDeployment | 2.100 |",
		"| create events, per FlinkDeployment | 2.000 |",
		"| **in the fleet's namespace, per FlinkDeployment** | **4.100** |",
		"| update leases elsewhere (member upkeep), in all | 3 |",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
}

// TestRender renders an earlier run's JSON as the run itself did.
func TestRender(t *testing.T) {
	res := &Results{Members: 3, FlinkDeployments: 10, Convergence: []*Convergence{
		{Replicas: 1, FlinkDeployments: 10, Seconds: 5, HubWrites: 81, HubRequestsByResource: &HubRequests{InFleet: map[string]int{"create events": 20, "patch flinkdeployments/status": 21}}},
	}}
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	in, md := filepath.Join(dir, "run.json"), filepath.Join(dir, "run.md")
	if err := os.WriteFile(in, b, 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr strings.Builder
	if code := render(config{renderPath: in, mdPath: md}, &stdout, &stderr); code != 0 {
		t.Fatalf("render: exit %d, %s", code, stderr.String())
	}
	written, err := os.ReadFile(md)
	if err != nil {
		t.Fatal(err)
	}
	if want := res.Markdown(); stdout.String() != want || string(written) != want || !strings.Contains(want, "**4.100**") {
		t.Fatalf("rendered:\n%s\nwant:\n%s", stdout.String(), want)
	}
	if code := render(config{renderPath: filepath.Join(dir, "missing.json")}, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), "missing.json") {
		t.Fatalf("a missing file: exit %d, %q", code, stderr.String())
	}
}

// TestHubRequestsOfCountsReadsNotWatches: the figure counts what the hub
// asks per FlinkDeployment, reads included (a guard's GET is a request
// like an apply), but not its watch streams.
func TestHubRequestsOfCountsReadsNotWatches(t *testing.T) {
	reqs := []framework.Request{
		{Verb: "get", Resource: "configmaps", Namespace: "fleet"},
		{Verb: "create", Resource: "configmaps", Namespace: "fleet"},
		{Verb: "patch", Resource: "flinkdeployments", Subresource: "status", Namespace: "fleet"},
		{Verb: "watch", Resource: "deployments", Namespace: "fleet"},
		{Verb: "watch", Resource: "flinkdeployments"},
		{Verb: "update", Resource: "leases", Namespace: "flink-hub-system"},
	}
	got := hubRequestsOf([]auditedRequests{{member: "m", requests: reqs}}, "fleet")
	want := map[string]int{"get configmaps": 1, "create configmaps": 1, "patch flinkdeployments/status": 1}
	if !maps.Equal(got.InFleet, want) || !maps.Equal(got.Upkeep, map[string]int{"update leases": 1}) {
		t.Errorf("in the fleet %v, upkeep %v; want %v and one lease update", got.InFleet, got.Upkeep, want)
	}
}
