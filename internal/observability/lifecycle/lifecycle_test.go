package lifecycle

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// sumOf is the count and sum of a summary's series for labels.
func sumOf(t *testing.T, v *prometheus.SummaryVec, lv ...string) (uint64, float64) {
	t.Helper()
	var m dto.Metric
	if err := v.WithLabelValues(lv...).(prometheus.Metric).Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetSummary().GetSampleCount(), m.GetSummary().GetSampleSum()
}

// TestLifecycleTimes walks a deployment through a first deployment, an
// upgrade and a suspend, checking upstream's transition and state times.
func TestLifecycleTimes(t *testing.T) {
	var r Recorder
	res := Resource{Kind: "FlinkDeployment", Cluster: "m1", Namespace: "lc-test", Name: "a"}
	lv := []string{"m1", "lc-test", "FlinkDeployment"}
	t0 := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	for _, step := range []struct {
		state string
		at    int
	}{
		{"CREATED", 0}, {"DEPLOYED", 2}, {"DEPLOYED", 5}, {"STABLE", 12}, // stabilization: 12 - 2
		{"STABLE", 60}, {"UPGRADING", 70}, // suspend (as upstream names STABLE -> UPGRADING): 70 - 60
		{"DEPLOYED", 75}, // submission: 75 - 70
		{"STABLE", 90},   // stabilization: 90 - 75
	} {
		r.Observe(res, step.state, at(step.at))
	}
	checks := []struct {
		v     *prometheus.SummaryVec
		count uint64
		sum   float64
	}{
		{transitionTime["Stabilization"], 2, 10 + 15},
		{transitionTime["Suspend"], 1, 10},
		{transitionTime["Submission"], 1, 5},
		// DEPLOYED ended twice: 2..5 (last seen at 5) when STABLE came at
		// 12, and 75..75 when STABLE came at 90.
		{stateTimes["DEPLOYED"], 2, 3},
	}
	for i, c := range checks {
		if count, sum := sumOf(t, c.v, lv...); count != c.count || sum != c.sum {
			t.Errorf("check %d: %d observations summing %v; want %d summing %v", i, count, sum, c.count, c.sum)
		}
	}
	var m dto.Metric
	if err := systemTransitions["FlinkDeployment"]["Stabilization"].Write(&m); err != nil || m.GetSummary().GetSampleCount() < 2 {
		t.Errorf("system-scope Stabilization: %v, %v", m.GetSummary(), err)
	}
	r.Forget(res)
	if len(r.trackers) != 0 {
		t.Error("Forget kept the tracker")
	}
}
