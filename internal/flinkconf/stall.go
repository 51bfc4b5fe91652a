package flinkconf

import "time"

// DefaultCheckpointTimeout is Flink's execution.checkpointing.timeout when
// unset.
const DefaultCheckpointTimeout = 10 * time.Minute

// SnapshotStalled reports whether a savepoint or checkpoint triggered at
// triggered, still in progress at now, has run longer than timeout
// (KeyCheckpointTimeout; DefaultCheckpointTimeout when not positive) and
// slack: Flink should have failed it by then. It also returns how long it
// has run and the timeout applied.
func SnapshotStalled(timeout time.Duration, triggered, now time.Time, slack time.Duration) (waited, limit time.Duration, stalled bool) {
	if timeout <= 0 {
		timeout = DefaultCheckpointTimeout
	}
	waited = now.Sub(triggered)
	return waited, timeout, waited > timeout+slack
}
