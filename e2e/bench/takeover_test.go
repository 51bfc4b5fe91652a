package main

import "testing"

// TestTakeoverCost: the cost of a takeover is what the FlinkDeployment
// reconciles and the Flink REST calls of every survivor added between two
// readings; other kinds' reconciles do not count, and no reconcile is no
// figure.
func TestTakeoverCost(t *testing.T) {
	reading := func(fdSum, fdCount, jobSum, restSum, restCount string) string {
		return `flinkhub_reconcile_duration_seconds_sum{cluster="member-1",kind="FlinkDeployment",result="done"} ` + fdSum + "\n" +
			`flinkhub_reconcile_duration_seconds_count{cluster="member-1",kind="FlinkDeployment",result="done"} ` + fdCount + "\n" +
			`flinkhub_reconcile_duration_seconds_sum{cluster="member-1",kind="FlinkSessionJob",result="done"} ` + jobSum + "\n" +
			`flinkhub_reconcile_duration_seconds_count{cluster="member-1",kind="FlinkSessionJob",result="done"} 1000` + "\n" +
			`flinkhub_flink_rest_request_duration_seconds_sum{code="200",route="/config"} ` + restSum + "\n" +
			`flinkhub_flink_rest_request_duration_seconds_count{code="200",route="/config"} ` + restCount + "\n"
	}
	var before, after histTotals
	before.add(reading("1", "10", "5", "0.5", "20"))
	before.add(reading("2", "20", "5", "0.5", "20"))
	after.add(reading("3", "30", "50", "1.5", "60"))
	after.add(reading("2.5", "40", "50", "0.9", "40"))
	c := after.since(before)
	want := TakeoverCost{Reconciles: 40, ReconcileMeanMs: 62.5, RESTCalls: 60, RESTMeanMs: 23.33}
	if c == nil || c.Reconciles != want.Reconciles || c.RESTCalls != want.RESTCalls ||
		!near(c.ReconcileMeanMs, want.ReconcileMeanMs) || !near(c.RESTMeanMs, want.RESTMeanMs) {
		t.Fatalf("got %+v, want %+v", c, want)
	}
	if got := takeoverText(c); got != "62.5 ms / 23.3 ms" {
		t.Errorf("rendered %q", got)
	}
	if c := before.since(before); c != nil || takeoverText(c) != "-" {
		t.Errorf("no reconcile between two readings gave %+v", c)
	}
}

func near(a, b float64) bool { return a-b < 0.01 && b-a < 0.01 }
