package clusterhealth

import (
	"testing"
	"time"
)

// TestEvaluate walks observations through the restart and checkpoint
// windows, as upstream's evaluator judges them.
func TestEvaluate(t *testing.T) {
	t0 := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	settings := Settings{RestartsWindow: 2 * time.Minute, RestartsThreshold: 3, CheckpointProgress: true,
		CheckpointInterval: 10 * time.Second, CheckpointTimeout: 20 * time.Second}
	type step struct {
		at                  time.Duration
		restarts, completed int
		wantHealthy         bool
		wantError           string
	}
	for _, tc := range []struct {
		name     string
		settings Settings
		steps    []step
	}{
		{name: "steady job", settings: settings, steps: []step{
			{at: 0, restarts: 0, completed: 1, wantHealthy: true},
			{at: 30 * time.Second, restarts: 1, completed: 3, wantHealthy: true},
			{at: time.Minute, restarts: 2, completed: 6, wantHealthy: true},
		}},
		{name: "restarts over the threshold within the window", settings: settings, steps: []step{
			{at: 0, restarts: 0, completed: 1, wantHealthy: true},
			{at: 30 * time.Second, restarts: 2, completed: 2, wantHealthy: true},
			{at: time.Minute, restarts: 4, completed: 3, wantError: "Restart count hit threshold: 3"},
		}},
		{name: "restarts spread over more than the window are scaled down", settings: settings, steps: []step{
			{at: 0, restarts: 0, completed: 1, wantHealthy: true},
			{at: 8 * time.Minute, restarts: 8, completed: 40, wantHealthy: true}, // 8 x 2/8 = 2
		}},
		{name: "a new job counts from zero", settings: settings, steps: []step{
			{at: 0, restarts: 10, completed: 5, wantHealthy: true},
			{at: 30 * time.Second, restarts: 0, completed: 6, wantHealthy: true},
		}},
		{name: "no checkpoint within (0+2) x max(interval, timeout) = 40 s", settings: settings, steps: []step{
			{at: 0, restarts: 0, completed: 5, wantHealthy: true},
			{at: 30 * time.Second, restarts: 0, completed: 5, wantHealthy: true},
			{at: 50 * time.Second, restarts: 0, completed: 5, wantError: "Cluster is not able to complete checkpoints"},
			{at: 60 * time.Second, restarts: 0, completed: 6, wantHealthy: true},
		}},
		{name: "both", settings: settings, steps: []step{
			{at: 0, restarts: 0, completed: 5, wantHealthy: true},
			{at: time.Minute, restarts: 9, completed: 5, wantError: "Restart count hit threshold: 3|Cluster is not able to complete checkpoints"},
		}},
		{name: "checkpoint check off", settings: Settings{RestartsWindow: 2 * time.Minute, RestartsThreshold: 3, CheckpointInterval: 10 * time.Second}, steps: []step{
			{at: 0, restarts: 0, completed: 5, wantHealthy: true},
			{at: 10 * time.Minute, restarts: 0, completed: 5, wantHealthy: true},
		}},
		{name: "a configured window shorter than the least is not used", settings: func() Settings { s := settings; s.CheckpointWindow = 5 * time.Second; return s }(), steps: []step{
			{at: 0, restarts: 0, completed: 5, wantHealthy: true},
			{at: 30 * time.Second, restarts: 0, completed: 5, wantHealthy: true},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			info := map[string]string{}
			for i, st := range tc.steps {
				now := at(st.at)
				Evaluate(info, Info{TimeStamp: now.UnixMilli(), NumRestarts: st.restarts, NumCompletedCheckpoints: st.completed}, tc.settings, now)
				why, unhealthy := Unhealthy(info)
				if unhealthy == st.wantHealthy || why != st.wantError {
					t.Fatalf("step %d: unhealthy %v (%q); want healthy %v (%q); info %s", i, unhealthy, why, st.wantHealthy, st.wantError, info[InfoKey])
				}
			}
		})
	}
}

func TestStaleObservationIgnored(t *testing.T) {
	now := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	info := map[string]string{}
	s := Settings{RestartsWindow: time.Minute, RestartsThreshold: 0}
	Evaluate(info, Info{TimeStamp: now.UnixMilli()}, s, now)
	before := info[InfoKey]
	Evaluate(info, Info{TimeStamp: now.Add(-time.Second).UnixMilli(), NumRestarts: 5}, s, now)
	if info[InfoKey] != before {
		t.Errorf("an older observation changed the info: %s", info[InfoKey])
	}
	Forget(info)
	if _, ok := Last(info); ok {
		t.Error("Forget kept the info")
	}
}
