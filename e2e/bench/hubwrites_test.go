package main

import (
	"fmt"
	"strings"
	"testing"
)

func TestHubRequestsCell(t *testing.T) {
	fleet := func(perFD map[string]int, upkeep int) *HubWrites {
		return &HubWrites{InFleet: perFD, Upkeep: map[string]int{"update leases": upkeep}}
	}
	for _, tc := range []struct {
		name      string
		writes    *HubWrites
		all       float64
		wantFD    string
		wantMet   bool
		wantTotal string
	}{
		{"eight per FlinkDeployment, claims apart", fleet(map[string]int{"patch flinkdeployments/status": 200, "create events": 200, "patch deployments": 400}, 9), 809, "8.000", true, "8.090"},
		{"a third status patch for one", fleet(map[string]int{"patch flinkdeployments/status": 201, "create events": 200, "patch deployments": 400}, 0), 801, "8.010", false, "8.010"},
		{"no audit", nil, 800, "8.00", true, ""},
	} {
		c := &Convergence{Replicas: 1, FlinkDeployments: 100, HubWrites: tc.all, HubWritesByResource: tc.writes}
		got := hubRequestsCell(c)
		if !strings.HasPrefix(got, tc.wantFD) || strings.HasSuffix(got, verdict(true)) != tc.wantMet || !strings.Contains(got, tc.wantTotal) {
			t.Errorf("%s: %q, want %s (all %s), met %v", tc.name, got, tc.wantFD, tc.wantTotal, tc.wantMet)
		}
	}
}

func TestHubWritesTable(t *testing.T) {
	cs := []*Convergence{
		{Replicas: 1, FlinkDeployments: 10, HubWritesByResource: &HubWrites{InFleet: map[string]int{"create events": 20, "patch flinkdeployments/status": 21}, Upkeep: map[string]int{"update leases": 3}}},
		{Replicas: 3, FlinkDeployments: 10},
	}
	var out strings.Builder
	hubWritesTable(func(f string, a ...any) { fmt.Fprintf(&out, f, a...) }, cs)
	for _, want := range []string{
		"| verb resource | 1 replica(s) |\n",
		"| patch flinkdeployments/status, per FlinkDeployment | 2.100 |",
		"| create events, per FlinkDeployment | 2.000 |",
		"| **in the fleet's namespace, per FlinkDeployment** | **4.10** |",
		"| update leases elsewhere (member upkeep), in all | 3 |",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
}
