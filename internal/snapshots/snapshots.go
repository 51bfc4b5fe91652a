// Package snapshots holds the rules of savepoints and checkpoints that
// FlinkDeployments and FlinkSessionJobs share, as the Apache operator
// applies them: when a periodic one is due, how long the savepoint history
// is, which checkpoint type is asked for. Settings are read through a
// lookup, since a session job's come from its own configuration and its
// session cluster's.
package snapshots

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/flinkconf"
)

// Setting returns the value of an operator setting ("" when unset).
type Setting func(key string) string

// Upstream's defaults for the savepoint history.
const (
	DefaultHistoryMaxCount = 10
	DefaultHistoryMaxAge   = 24 * time.Hour
)

// PeriodicWait is how long until the next periodic snapshot is due: an
// interval after the last one (lastMillis, epoch milliseconds), or after
// the job's start (jobStart, as status.jobStatus.startTime) before the
// first; zero or less when due.
func PeriodicWait(lastMillis int64, jobStart string, interval time.Duration, now time.Time) time.Duration {
	last := time.UnixMilli(lastMillis)
	if lastMillis == 0 {
		// Count the interval from the job's start, not from 1970.
		if ms, err := strconv.ParseInt(jobStart, 10, 64); err == nil {
			last = time.UnixMilli(ms)
		}
	}
	return last.Add(interval).Sub(now)
}

// Interval reads a duration setting; zero when unset or unreadable (the
// validation refuses the latter).
func Interval(setting Setting, key string) time.Duration {
	d, _ := flinkconf.ParseDuration(setting(key))
	return d
}

// TrimHistory keeps the savepoint history to the configured count and age
// (kubernetes.operator.savepoint.history.max.count and .age).
func TrimHistory(history []v1beta1.Savepoint, setting Setting, now time.Time) []v1beta1.Savepoint {
	maxCount := DefaultHistoryMaxCount
	if n, err := strconv.Atoi(strings.TrimSpace(setting(flinkconf.KeySavepointHistoryMaxCount))); err == nil && n >= 0 {
		maxCount = n
	}
	maxAge := DefaultHistoryMaxAge
	if d := Interval(setting, flinkconf.KeySavepointHistoryMaxAge); d > 0 {
		maxAge = d
	}
	out := history[:0:0]
	for _, sp := range history {
		if now.Sub(time.UnixMilli(sp.TimeStamp)) <= maxAge {
			out = append(out, sp)
		}
	}
	if len(out) > maxCount {
		out = out[len(out)-maxCount:]
	}
	return out
}

// Disposer disposes of a savepoint's files (Flink's /savepoint-disposal).
// It returns an error wrapping ErrGone when Flink found nothing at the
// path to dispose of.
type Disposer func(ctx context.Context, path string) error

// ErrGone is a disposal that found no savepoint at its path: Flink's
// disposal fails (FileNotFoundException) for a path whose files were
// deleted already, by an earlier disposal whose answer was lost or by
// someone else. The savepoint is as good as disposed of: upstream, which
// never reads how a disposal ended, forgets it too.
var ErrGone = errors.New("no savepoint at the path: its files are gone already")

// Trimmed is what Trim did to a savepoint history.
type Trimmed struct {
	// Kept is the history left.
	Kept []v1beta1.Savepoint
	// Disposed lists the savepoints dropped and disposed of.
	Disposed []string
	// Gone lists the savepoints dropped whose files were gone already
	// (ErrGone), with why.
	Gone []error
	// Failed lists the disposals that failed: their savepoints are kept,
	// to be disposed of at a later trim.
	Failed []error
	// gonePaths are the paths of Gone.
	gonePaths []string
}

// Dropped lists the savepoints dropped from the history whose files are
// no more: disposed of, or gone already.
func (t Trimmed) Dropped() []string { return append(slices.Clone(t.Disposed), t.gonePaths...) }

// Trim keeps the history to its configured count and age, and, unless
// kubernetes.operator.savepoint.cleanup.enabled is false (upstream's
// default is true), disposes of the savepoints it drops, as upstream
// does. A savepoint in keep (the last one, or one a restore names) is never
// disposed or dropped. A disposal that fails leaves its savepoint in the
// history, to be tried again at the next trim, and is returned in Failed:
// it never fails the caller. One whose files are gone already (ErrGone)
// is dropped, in Gone, and never asked again.
func Trim(ctx context.Context, history []v1beta1.Savepoint, setting Setting, now time.Time, dispose Disposer, keep ...string) Trimmed {
	trimmed := TrimHistory(history, setting, now)
	inTrimmed := map[string]bool{}
	for _, sp := range trimmed {
		inTrimmed[sp.Location] = true
	}
	cleanup := true
	if on, ok := flinkconf.Bool(setting(flinkconf.KeySavepointCleanup)); ok {
		cleanup = on
	}
	var t Trimmed
	for _, sp := range history {
		switch {
		case inTrimmed[sp.Location]:
			t.Kept = append(t.Kept, sp)
		case slices.Contains(keep, sp.Location) && sp.Location != "":
			t.Kept = append(t.Kept, sp)
		case !cleanup || sp.Location == "" || dispose == nil:
		default:
			t.dispose(ctx, sp, dispose)
		}
	}
	return t
}

// dispose disposes of sp, dropped from the history, and records how it went.
func (t *Trimmed) dispose(ctx context.Context, sp v1beta1.Savepoint, dispose Disposer) {
	err := dispose(ctx, sp.Location)
	switch {
	case err == nil:
		t.Disposed = append(t.Disposed, sp.Location)
	case errors.Is(err, ErrGone):
		t.gonePaths = append(t.gonePaths, sp.Location)
		t.Gone = append(t.Gone, fmt.Errorf("savepoint %s: %w", sp.Location, err))
	default:
		t.Kept = append(t.Kept, sp)
		t.Failed = append(t.Failed, fmt.Errorf("dispose of savepoint %s: %w", sp.Location, err))
	}
}

// CheckpointType is the kind of triggered checkpoint the settings ask for
// (kubernetes.operator.checkpoint.type): FULL unless INCREMENTAL.
func CheckpointType(setting Setting) v1beta1.CheckpointType {
	if strings.EqualFold(strings.TrimSpace(setting(flinkconf.KeyCheckpointType)), string(v1beta1.CheckpointIncremental)) {
		return v1beta1.CheckpointIncremental
	}
	return v1beta1.CheckpointFull
}

// CheckpointTriggerSupported reports whether Flink of version v takes a
// checkpoint on request: its REST API has the checkpoint trigger
// (POST /jobs/{id}/checkpoints) from Flink 1.17 on, and answers 404
// before, as upstream's SnapshotUtils.isSnapshotTriggeringSupported
// says. An unset version is not known to lack it.
func CheckpointTriggerSupported(v v1beta1.FlinkVersion) bool {
	return v.IsEqualOrNewer("v1_17")
}

// CheckpointTriggerUnsupported says why a checkpoint of kind ("manual",
// "periodic", "snapshot") is not asked of Flink v, and what to do.
func CheckpointTriggerUnsupported(kind string, v v1beta1.FlinkVersion) string {
	return fmt.Sprintf("%s checkpoint not triggered: Flink %s cannot take a checkpoint on request (Flink has the checkpoint trigger from 1.17 on; flinkVersion %s); "+
		"upgrade to Flink 1.17 or newer, or rely on the job's own checkpoints (execution.checkpointing.interval)", kind, v.Number(), v)
}
