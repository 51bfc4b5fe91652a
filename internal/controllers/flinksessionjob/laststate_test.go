package flinksessionjob

import (
	"testing"
	"time"

	"github.com/flink-hub/flink-hub/internal/flinkrest/api"
)

// TestLatestState: the last-state upgrade of an ended job starts from the
// newer of Flink's latest retained state (weighed by id, as upstream's
// getLatestCompletedCheckpoint) and the newest savepoint recorded. A
// savepoint Flink names was weighed already, whatever the hub's clock
// says; one Flink does not name wins only when Flink reports nothing or
// an older time; the savepoint is kept when Flink's newest has no path
// only if it is newer than it.
func TestLatestState(t *testing.T) {
	const sp = "s3://s/sp-5"
	var (
		chk4  = api.CompletedCheckpointStatistics{Id: 4, TriggerTimestamp: 2000, ExternalPath: "s3://c/chk-4"}
		sp5   = api.CompletedCheckpointStatistics{Id: 5, TriggerTimestamp: 3000, ExternalPath: sp}
		chk6  = api.CompletedCheckpointStatistics{Id: 6, TriggerTimestamp: 4000, ExternalPath: "s3://c/chk-6"}
		blind = api.CompletedCheckpointStatistics{Id: 6, TriggerTimestamp: 4000, ExternalPath: "<checkpoint-not-externally-addressable>"}
	)
	cpAfterSp := api.LatestCheckpoints{Completed: chk6, Savepoint: sp5}
	restored := api.LatestCheckpoints{Restored: api.RestoredCheckpointStatistics{Id: 2, RestoreTimestamp: 1000, ExternalPath: "s3://s/sp-2"}}
	for _, tc := range []struct {
		name       string
		latest     api.LatestCheckpoints
		recorded   string
		recordedAt int64
		want       string
		from       source
	}{
		{"a checkpoint after the savepoint Flink names, recorded late", cpAfterSp, sp, 9000, "s3://c/chk-6", fromFlink},
		{"the savepoint Flink names is the newest", api.LatestCheckpoints{Completed: chk4, Savepoint: sp5}, sp, 3500, sp, fromFlink},
		{"a checkpoint newer than a savepoint Flink does not name", cpAfterSp, "s3://s/other", 3500, "s3://c/chk-6", fromFlink},
		{"a savepoint Flink does not name, newer", restored, sp, 2000, sp, fromRecorded},
		{"a recorded start point of unknown time", restored, "s3://s/start", 0, "s3://s/sp-2", fromFlink},
		{"Flink reports nothing: the savepoint", api.LatestCheckpoints{}, sp, 0, sp, fromRecorded},
		{"nothing at all", api.LatestCheckpoints{}, "", 0, "", noState},
		{"Flink's newest has no path", api.LatestCheckpoints{Completed: blind, Savepoint: sp5}, sp, 3500, "", notAddressable},
		{"no path, an older savepoint Flink does not name", api.LatestCheckpoints{Completed: blind}, sp, 3000, "", notAddressable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var at time.Time
			if tc.recordedAt > 0 {
				at = time.UnixMilli(tc.recordedAt)
			}
			if got, from := latestState(tc.latest, tc.recorded, at); got != tc.want || from != tc.from {
				t.Errorf("latestState = %q, %d; want %q, %d", got, from, tc.want, tc.from)
			}
		})
	}
}
