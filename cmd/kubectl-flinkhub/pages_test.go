package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	fleetv1 "github.com/flink-hub/flink-hub/apis/fleet/v1"
	"github.com/flink-hub/flink-hub/internal/clusters/fleetapi"
	"github.com/flink-hub/flink-hub/internal/clusters/fleetindex"
)

// TestGetReadsPages: `get deployments` reads a long list page by page
// (--chunk-size rows a request, the fleet API's own handler answering),
// lists every row once and in order, and stops with an error on a server
// that asks for more pages without giving rows.
func TestGetReadsPages(t *testing.T) {
	ix := fleetindex.New()
	const rows = 23
	for i := range rows {
		ix.UpsertDeployment(fleetindex.Deployment{Cluster: "m" + strconv.Itoa(i%3), Namespace: "apps", Name: "fd-" + strconv.Itoa(i)})
	}
	var requests, limited atomic.Int32
	api := fleetapi.Handler(&fleetapi.Fleet{Index: ix}, nil)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if r.URL.Query().Get("limit") == "5" {
			limited.Add(1)
		}
		api.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	get := func(args ...string) (int, string, string) {
		return plugin(append([]string{"--context", "reader", "get", "deployments", "--fleet-url", srv.URL, "--fleet-insecure-skip-tls-verify"}, args...)...)
	}
	code, out, errOut := get("-o", "json", "--chunk-size", "5")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var items []fleetv1.Deployment
	if err := json.Unmarshal([]byte(out), &items); err != nil {
		t.Fatal(err)
	}
	all := ix.Deployments(fleetindex.Filter{})
	if len(items) != rows || len(all) != rows {
		t.Fatalf("listed %d rows, want %d", len(items), rows)
	}
	for i := range items {
		if fleetindex.KeyOf(&items[i]) != fleetindex.KeyOf(&all[i]) {
			t.Fatalf("row %d is %s, want %s", i, fleetindex.KeyOf(&items[i]), fleetindex.KeyOf(&all[i]))
		}
	}
	if n, l := requests.Load(), limited.Load(); n != 5 || l != 5 {
		t.Fatalf("%d requests, %d of them with limit 5; want 5 pages", n, l)
	}

	requests.Store(0)
	if code, out, errOut := get("--chunk-size", "0", "--cluster", "m1"); code != 0 || strings.Count(out, "fd-") != 8 || requests.Load() != 1 {
		t.Fatalf("--chunk-size 0: exit %d, %d requests: %s %s", code, requests.Load(), out, errOut)
	}
	if code, _, errOut := get("--chunk-size", "10001"); code == 0 || !strings.Contains(errOut, "--chunk-size: want 0 (one request) or 1 to 10000") {
		t.Fatalf("--chunk-size 10001: exit %d: %s", code, errOut)
	}

	stuck := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(fleetv1.DeploymentList{Items: []fleetv1.Deployment{}, Continue: "again"})
	}))
	t.Cleanup(stuck.Close)
	code, _, errOut = plugin("--context", "reader", "get", "deployments", "--fleet-url", stuck.URL, "--fleet-insecure-skip-tls-verify")
	if code == 0 || !strings.Contains(errOut, "a page without progress asks for another") {
		t.Fatalf("a server that never ends the list: exit %d: %s", code, errOut)
	}
}

// TestGetSummary: `get summary` counts every member's resources by state in
// one request, totals them, and adds the matches of its filters.
func TestGetSummary(t *testing.T) {
	ix := fleetindex.New()
	for i := range 10 {
		d := fleetindex.Deployment{Cluster: "m" + strconv.Itoa(i%2), Namespace: "apps", Name: "fd-" + strconv.Itoa(i), LifecycleState: "STABLE", JobState: "RUNNING"}
		if i%5 == 0 {
			d.JobState, d.Error = "FAILED", "no slots left"
		}
		ix.UpsertDeployment(d)
	}
	ix.UpsertDeployment(fleetindex.Deployment{Kind: fleetv1.KindFlinkSessionJob, Cluster: "m1", Namespace: "apps", Name: "etl", LifecycleState: "UPGRADING"})
	var requests atomic.Int32
	api := fleetapi.Handler(&fleetapi.Fleet{Index: ix}, nil)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		api.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	get := func(args ...string) string {
		t.Helper()
		code, out, errOut := plugin(append([]string{"--context", "reader", "get", "summary", "--fleet-url", srv.URL, "--fleet-insecure-skip-tls-verify"}, args...)...)
		if code != 0 {
			t.Fatalf("get summary %v: exit %d: %s", args, code, errOut)
		}
		return out
	}
	want := []string{
		"CLUSTER   FAILED   RUNNING   UPGRADING   TOTAL",
		"m0        1        4         0           5",
		"m1        1        4         1           6",
		"(all)     2        8         1           11",
	}
	table := get()
	if words(table) != words(strings.Join(want, "\n")) || requests.Load() != 1 {
		t.Fatalf("get summary (%d requests):\n%s", requests.Load(), table)
	}
	out := get("--state", "failed", "--text", "SLOTS", "-o", "json")
	var s fleetv1.Summary
	if err := json.Unmarshal([]byte(out), &s); err != nil || len(s.Clusters) != 2 || s.Clusters[0].Matched != 1 || s.Clusters[1].Matched != 1 || s.Clusters[1].Total != 6 {
		t.Fatalf("filtered: %v %s", err, out)
	}
	if table := get("--cluster", "m1"); !strings.Contains(table, "MATCHED") || !strings.Contains(words(table), "(all) 2 8 1 11 6") {
		t.Fatalf("--cluster m1:\n%s", table)
	}
}

// words is text with every run of spaces and line breaks made one space.
func words(text string) string { return strings.Join(strings.Fields(text), " ") }
