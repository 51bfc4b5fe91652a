package snapshots

import (
	"time"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/boundedtext"
	"github.com/flink-hub/flink-hub/internal/flinkconf"
	"github.com/flink-hub/flink-hub/internal/problem"
)

// Attempt is a savepoint or checkpoint that failed, as its report needs
// it: what took it, and when the hub takes the next.
type Attempt struct {
	// Checkpoint is set for a checkpoint, unset for a savepoint.
	Checkpoint bool
	// Trigger took it: an upgrade (or a suspend, or the resource's
	// deletion: Deletion), its period, or a new trigger nonce.
	Trigger v1beta1.SnapshotTriggerType
	// Deletion is set when the upgrade kind's savepoint was to stop the
	// job for its resource's deletion.
	Deletion bool
	// Now is when it failed.
	Now time.Time
	// ReconcileInterval is how long the hub waits before it takes an
	// upgrade's or a deletion's savepoint again (--reconcile-interval).
	ReconcileInterval time.Duration
	// Setting reads the periodic interval.
	Setting Setting
	// Job is the job's status: its start and its last periodic snapshot
	// time the next periodic one (PeriodicWait).
	Job *v1beta1.JobStatus
}

// maxCause bounds the cause a report quotes (a JobManager's text), so
// that the count before it and the next try after it fit in status.error.
const maxCause = 1024

// Failed is the problem of attempt a, failed with cause: SavepointFailed
// or CheckpointFailed, saying how many failed in a row (counted on from
// prev, problem.Repeated) and when the hub tries again (retry). A
// completed one ends the row, as its controller clears the problem.
func Failed(prev problem.Problem, a Attempt, cause string) problem.Problem {
	reason, what := problem.SavepointFailed, "savepoint"
	if a.Checkpoint {
		reason, what = problem.CheckpointFailed, "checkpoint"
	}
	return problem.Repeated(prev, reason, what, boundedtext.Quote(cause, maxCause)+"; "+a.retry())
}

// retry says when the hub takes the next savepoint or checkpoint after a:
// an upgrade's or a deletion's savepoint after the reconcile interval,
// the job running on meanwhile; a periodic one at its next period (none
// once its interval is unset); a manual one only for a new trigger
// nonce, as upstream gives up on one past its grace period.
func (a Attempt) retry() string {
	what, nonce, key := "savepoint", "job.savepointTriggerNonce", flinkconf.KeyPeriodicSavepointInterval
	if a.Checkpoint {
		what, nonce, key = "checkpoint", "job.checkpointTriggerNonce", flinkconf.KeyPeriodicCheckpointInterval
	}
	at := func(d time.Duration) string { return a.Now.Add(d).UTC().Format(time.RFC3339) }
	switch {
	case a.Trigger == v1beta1.TriggerUpgrade && a.Deletion:
		return "the deletion is tried again with a new savepoint at " + at(a.ReconcileInterval) + " (the hub's --reconcile-interval); the job keeps running"
	case a.Trigger == v1beta1.TriggerUpgrade:
		return "the spec change is tried again with a new savepoint at " + at(a.ReconcileInterval) + " (the hub's --reconcile-interval); the job keeps running"
	case a.Trigger != v1beta1.TriggerPeriodic:
		return "it is not tried again: change " + nonce + " to take another"
	case a.Setting == nil || a.Job == nil || Interval(a.Setting, key) <= 0:
		return "no periodic " + what + " follows: its interval is unset"
	}
	return "the next periodic " + what + " is at " + at(max(PeriodicWait(a.lastPeriodic(), a.Job.StartTime, Interval(a.Setting, key), a.Now), 0))
}

// RetryAfter is how long after a failed the hub looks again, so that the
// next try comes when the report (retry) says: the reconcile interval,
// or, for a periodic snapshot, its next period when that comes sooner
// (a period shorter than the reconcile interval would otherwise be tried
// later than reported).
func (a Attempt) RetryAfter() time.Duration {
	key := flinkconf.KeyPeriodicSavepointInterval
	if a.Checkpoint {
		key = flinkconf.KeyPeriodicCheckpointInterval
	}
	if a.Trigger != v1beta1.TriggerPeriodic || a.Setting == nil || a.Job == nil || Interval(a.Setting, key) <= 0 {
		return a.ReconcileInterval
	}
	return min(a.ReconcileInterval, max(PeriodicWait(a.lastPeriodic(), a.Job.StartTime, Interval(a.Setting, key), a.Now), 0))
}

// lastPeriodic is when the job's last periodic savepoint (checkpoint) was
// triggered, epoch milliseconds; 0 for none.
func (a Attempt) lastPeriodic() int64 {
	switch js := a.Job; {
	case a.Checkpoint && js.CheckpointInfo != nil:
		return js.CheckpointInfo.LastPeriodicCheckpointTimestamp
	case !a.Checkpoint && js.SavepointInfo != nil:
		return js.SavepointInfo.LastPeriodicSavepointTimestamp
	}
	return 0
}

// DefaultTriggerGracePeriod is upstream's savepoint and checkpoint trigger
// grace period.
const DefaultTriggerGracePeriod = time.Minute

// WithinGrace reports whether a manual snapshot triggered at triggered
// (epoch milliseconds) failed within the grace period the setting key
// gives (DefaultTriggerGracePeriod when unset), as upstream's
// SnapshotUtils.gracePeriodEnded reads it: such a snapshot is triggered
// again, one that fails later is reported.
func WithinGrace(setting Setting, key string, triggered *int64, now time.Time) bool {
	if triggered == nil {
		return false
	}
	grace := Interval(setting, key)
	if grace <= 0 {
		grace = DefaultTriggerGracePeriod
	}
	return now.Before(time.UnixMilli(*triggered).Add(grace))
}
