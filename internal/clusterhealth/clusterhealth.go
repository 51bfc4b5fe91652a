// Package clusterhealth judges a running job's health as the Apache
// operator's cluster health check does (kubernetes.operator.cluster.health-check.*):
// too many restarts within a window, or no checkpoint completed within a
// window, make it unhealthy, and the reconciler restarts it. The judgment
// lives in status.clusterInfo under upstream's key and JSON, so that it
// survives a restart of the hub or a shard handoff, and tools built for
// upstream read it.
package clusterhealth

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// InfoKey is the status.clusterInfo key of the health info, upstream's.
const InfoKey = "ClusterHealthInfo"

// Info is upstream's ClusterHealthInfo: the metrics last observed, when
// the restart count was last evaluated and the checkpoint count last
// increased (milliseconds), and the judgment.
type Info struct {
	TimeStamp                                 int64   `json:"timeStamp"`
	NumRestarts                               int     `json:"numRestarts"`
	NumRestartsEvaluationTimeStamp            int64   `json:"numRestartsEvaluationTimeStamp"`
	NumCompletedCheckpoints                   int     `json:"numCompletedCheckpoints"`
	NumCompletedCheckpointsIncreasedTimeStamp int64   `json:"numCompletedCheckpointsIncreasedTimeStamp"`
	HealthResult                              *Result `json:"healthResult,omitempty"`
}

// Result is a judgment; Error says why a job is unhealthy.
type Result struct {
	Healthy bool   `json:"healthy"`
	Error   string `json:"error,omitempty"`
}

// join is both judgments: healthy when both are, their errors joined
// with "|".
func (r Result) join(o Result) Result {
	var errs []string
	for _, e := range []string{r.Error, o.Error} {
		if e != "" {
			errs = append(errs, e)
		}
	}
	return Result{Healthy: r.Healthy && o.Healthy, Error: strings.Join(errs, "|")}
}

// Settings are the health check's settings and the job's checkpointing.
type Settings struct {
	// RestartsWindow and RestartsThreshold: more restarts than the
	// threshold within the window is unhealthy.
	RestartsWindow    time.Duration
	RestartsThreshold int
	// CheckpointProgress enables the checkpoint check; CheckpointWindow
	// is its window, 0 for the least one allowed.
	CheckpointProgress bool
	CheckpointWindow   time.Duration
	// CheckpointInterval (0: checkpointing off), CheckpointTimeout and
	// TolerableFailures are the job's checkpointing.
	CheckpointInterval, CheckpointTimeout time.Duration
	TolerableFailures                     int
}

// Last is the health info kept in clusterInfo, false when none or
// unreadable.
func Last(clusterInfo map[string]string) (Info, bool) {
	raw, ok := clusterInfo[InfoKey]
	if !ok {
		return Info{}, false
	}
	var info Info
	if err := json.Unmarshal([]byte(raw), &info); err != nil || info.TimeStamp == 0 {
		return Info{}, false
	}
	return info, true
}

// Unhealthy reports the kept judgment when it is unhealthy, and why.
func Unhealthy(clusterInfo map[string]string) (string, bool) {
	info, ok := Last(clusterInfo)
	if !ok || info.HealthResult == nil || info.HealthResult.Healthy {
		return "", false
	}
	return info.HealthResult.Error, true
}

// Forget drops the kept health info (after a restart: the new job starts
// from nothing).
func Forget(clusterInfo map[string]string) { delete(clusterInfo, InfoKey) }

// Evaluate judges observed (its TimeStamp, NumRestarts and
// NumCompletedCheckpoints set) against the info kept in clusterInfo, as
// upstream's ClusterHealthEvaluator does, and keeps the result there.
// The first observation only starts the windows. An observation older than
// the kept one is ignored.
func Evaluate(clusterInfo map[string]string, observed Info, s Settings, now time.Time) {
	if observed.TimeStamp == 0 {
		return
	}
	last, ok := Last(clusterInfo)
	switch {
	case !ok:
		observed.NumRestartsEvaluationTimeStamp = observed.TimeStamp
		observed.NumCompletedCheckpointsIncreasedTimeStamp = observed.TimeStamp
		observed.HealthResult = &Result{Healthy: true}
		keep(clusterInfo, observed)
		return
	case observed.TimeStamp < last.TimeStamp:
		return
	}
	result := evaluateRestarts(&last, observed, s, now).join(evaluateCheckpoints(&last, observed, s, now))
	last.TimeStamp = observed.TimeStamp
	last.HealthResult = &result
	keep(clusterInfo, last)
}

func keep(clusterInfo map[string]string, info Info) {
	raw, _ := json.Marshal(info)
	clusterInfo[InfoKey] = string(raw)
}

// evaluateRestarts counts the restarts since the window's start, scaled
// down when the observations are further apart than the window; the
// window moves on once it has passed.
func evaluateRestarts(last *Info, observed Info, s Settings, now time.Time) Result {
	if observed.NumRestarts < last.NumRestarts {
		// A new job counts from zero.
		last.NumRestarts, last.NumRestartsEvaluationTimeStamp = observed.NumRestarts, observed.TimeStamp
		return Result{Healthy: true}
	}
	window := s.RestartsWindow.Milliseconds()
	multiplier := 1.0
	if diff := observed.TimeStamp - last.NumRestartsEvaluationTimeStamp; diff > 0 && float64(window)/float64(diff) < 1 {
		multiplier = float64(window) / float64(diff)
	}
	restarts := int64(float64(observed.NumRestarts-last.NumRestarts) * multiplier)
	result := Result{Healthy: true}
	if restarts > int64(s.RestartsThreshold) {
		result = Result{Error: "Restart count hit threshold: " + strconv.Itoa(s.RestartsThreshold)}
	}
	if last.NumRestartsEvaluationTimeStamp < now.UnixMilli()-window {
		last.NumRestarts, last.NumRestartsEvaluationTimeStamp = observed.NumRestarts, observed.TimeStamp
	}
	return result
}

// evaluateCheckpoints finds a job that completed no checkpoint within the
// window: the configured one if at least (tolerable failures + 2) times
// the interval and the timeout, else that least window.
func evaluateCheckpoints(last *Info, observed Info, s Settings, now time.Time) Result {
	if !s.CheckpointProgress || (s.CheckpointWindow == 0 && s.CheckpointInterval <= 0) {
		return Result{Healthy: true}
	}
	tolerance := time.Duration(s.TolerableFailures + 2)
	window := max(s.CheckpointInterval*tolerance, s.CheckpointTimeout*tolerance)
	if s.CheckpointWindow >= window {
		window = s.CheckpointWindow
	}
	switch {
	case observed.NumCompletedCheckpoints < last.NumCompletedCheckpoints:
		last.NumCompletedCheckpoints, last.NumCompletedCheckpointsIncreasedTimeStamp = observed.NumCompletedCheckpoints, observed.TimeStamp
	case observed.NumCompletedCheckpoints > last.NumCompletedCheckpoints:
		last.NumCompletedCheckpoints, last.NumCompletedCheckpointsIncreasedTimeStamp = observed.NumCompletedCheckpoints, observed.TimeStamp
	case last.NumCompletedCheckpointsIncreasedTimeStamp+window.Milliseconds() < now.UnixMilli():
		return Result{Error: "Cluster is not able to complete checkpoints"}
	}
	return Result{Healthy: true}
}
