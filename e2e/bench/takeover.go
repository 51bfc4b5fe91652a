package main

import (
	"context"
	"fmt"
)

// TakeoverCost is what the survivors' reconciles took while a stopped
// replica's keys moved to them: the mean reconcile and the mean Flink REST
// call (an observation makes two at once), from the sums and counts of
// their histograms read before the signal and once the bench saw the last
// moved key's reconcile (its audit is polled every auditPoll, so a few
// later reconciles may count too). It says how much of a takeover was the
// JobManagers answering.
type TakeoverCost struct {
	Reconciles      int     `json:"reconciles"`
	ReconcileMeanMs float64 `json:"reconcileMeanMs"`
	RESTCalls       int     `json:"restCalls"`
	RESTMeanMs      float64 `json:"restMeanMs"`
}

// Histogram series a takeover's cost is read from.
const (
	// reconcileTimeSeries times the reconciles that ran (the traced
	// ones), not the requests a gate or a worker share turned away.
	reconcileTimeSeries = "flinkhub_reconcile_duration_seconds"
	restDurationSeries  = "flinkhub_flink_rest_request_duration_seconds"
	// flinkDeploymentKind is the kind label of FlinkDeployment reconciles.
	flinkDeploymentKind = "FlinkDeployment"
)

// histTotals are the sums and counts of the FlinkDeployment reconciles'
// and the Flink REST calls' durations, over some replicas.
type histTotals struct {
	reconcileSec, reconciles, restSec, restCalls float64
}

// add adds the totals of one replica's metrics text.
func (h *histTotals) add(text string) {
	reconciler := func(l map[string]string) bool { return l["kind"] == flinkDeploymentKind }
	every := func(map[string]string) bool { return true }
	h.reconcileSec += sumCounter(text, reconcileTimeSeries+"_sum", reconciler)
	h.reconciles += sumCounter(text, reconcileTimeSeries+"_count", reconciler)
	h.restSec += sumCounter(text, restDurationSeries+"_sum", every)
	h.restCalls += sumCounter(text, restDurationSeries+"_count", every)
}

// since is the cost of what happened between before and h; nil when no
// reconcile ran.
func (h histTotals) since(before histTotals) *TakeoverCost {
	n, calls := h.reconciles-before.reconciles, h.restCalls-before.restCalls
	if n <= 0 {
		return nil
	}
	c := &TakeoverCost{Reconciles: int(n), ReconcileMeanMs: 1000 * (h.reconcileSec - before.reconcileSec) / n}
	if calls > 0 {
		c.RESTCalls, c.RESTMeanMs = int(calls), 1000*(h.restSec-before.restSec)/calls
	}
	return c
}

// totalsOf reads the histogram totals of replicas.
func totalsOf(ctx context.Context, replicas []*replica) (histTotals, error) {
	var h histTotals
	for _, r := range replicas {
		body, err := get(ctx, r.metrics)
		if err != nil {
			return h, err
		}
		h.add(string(body))
	}
	return h, nil
}

// survivorsOf are the live replicas other than victim.
func (e *env) survivorsOf(victim *replica) []*replica {
	var out []*replica
	for _, r := range e.live() {
		if r != victim {
			out = append(out, r)
		}
	}
	return out
}

// takeoverText renders a takeover's cost for the tables: the mean
// reconcile and the mean Flink REST call; "-" if unknown.
func takeoverText(c *TakeoverCost) string {
	switch {
	case c == nil:
		return "-"
	case c.RESTCalls == 0:
		return fmt.Sprintf("%.1f ms / no call", c.ReconcileMeanMs)
	}
	return fmt.Sprintf("%.1f ms / %.1f ms", c.ReconcileMeanMs, c.RESTMeanMs)
}
