package main

import (
	"math"
	"testing"
	"time"
)

func TestSumCounter(t *testing.T) {
	text := `# HELP apiserver_request_total Counter of apiserver requests.
apiserver_request_total{code="201",component="apiserver",group="apps",resource="deployments",verb="POST",version="v1"} 7
apiserver_request_total{code="200",component="apiserver",group="",resource="pods",verb="PATCH",version="v1"} 5
apiserver_request_total{code="200",component="apiserver",group="",resource="pods",verb="LIST",version="v1"} 100
apiserver_request_total_other{verb="POST"} 1000
rest_client_requests_total{code="200",host="127.0.0.1:1",method="PATCH"} 3
rest_client_requests_total{code="200",host="127.0.0.1:2",method="PATCH"} 11
rest_client_requests_total{code="200",host="127.0.0.1:1",method="GET"} 50
`
	for _, tc := range []struct {
		name   string
		metric string
		keep   func(map[string]string) bool
		want   float64
	}{
		{"apiserver writes", "apiserver_request_total", func(l map[string]string) bool { return writeVerbs[l["verb"]] }, 12},
		{"apiserver all", "apiserver_request_total", func(map[string]string) bool { return true }, 112},
		{"client writes to one host", "rest_client_requests_total", func(l map[string]string) bool {
			return writeMethods[l["method"]] && l["host"] == "127.0.0.1:1"
		}, 3},
		{"missing metric", "nope_total", func(map[string]string) bool { return true }, 0},
	} {
		if got := sumCounter(text, tc.metric, tc.keep); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestWriteCountSince(t *testing.T) {
	before := writeCount{member: map[string]float64{"POST pods": 100, "GET pods": 7, "PATCH pods/status": 1}, hub: map[string]float64{"hub-0": 10, "hub-1": 5}}
	// hub-1 was SIGKILLed meanwhile, hub-2 joined: only hub-0 counts.
	after := writeCount{member: map[string]float64{"POST pods": 150, "GET pods": 70, "PATCH pods/status": 11}, hub: map[string]float64{"hub-0": 40, "hub-2": 7}}
	if member, hub := after.since(before); member != 60 || hub != 30 {
		t.Fatalf("since = %v, %v; want 60, 30", member, hub)
	}
}

func TestRequestKey(t *testing.T) {
	for _, tc := range []struct {
		labels map[string]string
		want   string
	}{
		{map[string]string{"verb": "POST", "resource": "pods", "code": "201"}, "POST pods"},
		{map[string]string{"verb": "PATCH", "resource": "flinkdeployments", "subresource": "status", "code": "200"}, "PATCH flinkdeployments/status"},
		{map[string]string{"verb": "PATCH", "resource": "flinkdeployments", "subresource": "status", "code": "409"}, "PATCH flinkdeployments/status 409"},
		{map[string]string{"verb": "GET", "resource": "configmaps", "code": "404"}, "GET configmaps 404"},
		{map[string]string{"verb": "WATCH", "resource": "pods"}, "WATCH pods"},
	} {
		if got := requestKey(tc.labels); got != tc.want {
			t.Errorf("requestKey(%v) = %q, want %q", tc.labels, got, tc.want)
		}
	}
}

// TestPerMemberInterval: probes (a probe's /readyz on the members) and
// MemberCluster status writes (on the hub, every write verb, conflicts
// included) per member per probe interval.
func TestPerMemberInterval(t *testing.T) {
	t0 := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	before := writeCount{at: t0,
		member:    map[string]float64{probeRequest: 10, "GET pods": 50},
		hubServed: map[string]float64{"PATCH memberclusters/status": 4, "PUT memberclusters/status 409": 1, "GET memberclusters": 9}}
	const probeInterval = 2 * time.Second
	after := writeCount{at: t0.Add(10 * probeInterval),
		member:    map[string]float64{probeRequest: 40, "GET pods": 500},
		hubServed: map[string]float64{"PATCH memberclusters/status": 19, "PUT memberclusters/status 409": 6, "GET memberclusters": 900, "PATCH memberclusters": 77}}
	// 3 members, 10 intervals: 30 probes and 20 status writes.
	probes, writes := after.perMemberInterval(before, 3, probeInterval)
	if probes != 1 || math.Abs(writes-20.0/30) > 1e-9 {
		t.Fatalf("probes %v, status writes %v per member per interval; want 1 and 0.67", probes, writes)
	}
	if p, w := before.perMemberInterval(before, 3, probeInterval); p != 0 || w != 0 {
		t.Fatalf("an empty window gave %v and %v", p, w)
	}
}
