package checkpoints

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/flink-hub/flink-hub/internal/flinkrest/api"
)

// TestLatestRetained: as upstream's getLatestCompletedCheckpoint, the
// state a cancelled job leaves is the newest by id of its latest
// checkpoint, its latest savepoint and what it was restored from.
func TestLatestRetained(t *testing.T) {
	completed := func(id, at int64, path string) api.CompletedCheckpointStatistics {
		return api.CompletedCheckpointStatistics{Id: id, TriggerTimestamp: at, ExternalPath: path}
	}
	restored := api.RestoredCheckpointStatistics{Id: 7, RestoreTimestamp: 3000, ExternalPath: "s3://c/old/chk-7"}
	for _, tc := range []struct {
		name   string
		latest api.LatestCheckpoints
		want   Times
	}{
		{"nothing", api.LatestCheckpoints{}, Times{}},
		{"restored, no checkpoint since", api.LatestCheckpoints{Restored: restored},
			Times{Completed: time.UnixMilli(3000), CompletedPath: "s3://c/old/chk-7", Retained: true}},
		{"a checkpoint since the restore", api.LatestCheckpoints{Restored: restored, Completed: completed(8, 4000, "s3://c/new/chk-8")},
			Times{Completed: time.UnixMilli(4000), CompletedPath: "s3://c/new/chk-8", Retained: true}},
		{"a savepoint after the checkpoint", api.LatestCheckpoints{Completed: completed(8, 4000, "s3://c/new/chk-8"), Savepoint: completed(9, 5000, "s3://s/sp-9")},
			Times{Completed: time.UnixMilli(5000), CompletedPath: "s3://s/sp-9", Retained: true}},
		{"an older savepoint", api.LatestCheckpoints{Completed: completed(8, 4000, "s3://c/new/chk-8"), Savepoint: completed(2, 1000, "s3://s/sp-2")},
			Times{Completed: time.UnixMilli(4000), CompletedPath: "s3://c/new/chk-8", Retained: true}},
		// A checkpoint Flink names without a time still holds state; one
		// without a path is there, but cannot be restored.
		{"a checkpoint without a time", api.LatestCheckpoints{Completed: completed(3, 0, "s3://c/chk-3")},
			Times{CompletedPath: "s3://c/chk-3", Retained: true}},
		{"a checkpoint without a path", api.LatestCheckpoints{Completed: completed(3, 2000, "")},
			Times{Completed: time.UnixMilli(2000), Retained: true}},
		// Flink's answer for a checkpoint whose metadata only the
		// JobManager held (no checkpoint directory): no path.
		{"a checkpoint not externally addressable", api.LatestCheckpoints{Completed: completed(3, 2000, "<checkpoint-not-externally-addressable>")},
			Times{Completed: time.UnixMilli(2000), Retained: true}},
		{"restored from one not externally addressable", api.LatestCheckpoints{Restored: api.RestoredCheckpointStatistics{Id: 7, RestoreTimestamp: 3000, ExternalPath: "<checkpoint-not-externally-addressable>"}},
			Times{Completed: time.UnixMilli(3000), Retained: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := LatestRetained(tc.latest); got != tc.want {
				t.Errorf("LatestRetained = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// statistics answers CheckpointStatistics with stats, or err.
type statistics struct {
	stats api.CheckpointingStatistics
	err   error
}

// CheckpointStatistics returns the fake's answer.
func (s statistics) CheckpointStatistics(context.Context, string) (*api.CheckpointingStatistics, error) {
	return &s.stats, s.err
}

// TestRead: the latest retained checkpoint comes from the latest ones,
// the pending time from the newest checkpoint in progress in the
// history; an unreadable answer is an error naming what was read.
func TestRead(t *testing.T) {
	inHistory := func(status api.CheckpointStatsStatus, at int64) api.CheckpointStatistics {
		return api.CheckpointStatistics{Status: status, TriggerTimestamp: at}
	}
	latest := api.LatestCheckpoints{Completed: api.CompletedCheckpointStatistics{Id: 4, TriggerTimestamp: 1000, ExternalPath: "s3://c/chk-4"}}
	for _, tc := range []struct {
		name    string
		history []api.CheckpointStatistics
		want    Times
	}{
		{"no history", nil, Times{Completed: time.UnixMilli(1000), CompletedPath: "s3://c/chk-4", Retained: true}},
		{"the newest in progress is pending", []api.CheckpointStatistics{
			inHistory(api.CheckpointStatsStatusINPROGRESS, 2000), inHistory(api.CheckpointStatsStatusINPROGRESS, 3000),
			inHistory(api.CheckpointStatsStatusINPROGRESS, 2500),
		}, Times{Completed: time.UnixMilli(1000), Pending: time.UnixMilli(3000), CompletedPath: "s3://c/chk-4", Retained: true}},
		{"completed and failed ones are not pending", []api.CheckpointStatistics{
			inHistory(api.CheckpointStatsStatusCOMPLETED, 5000), inHistory(api.CheckpointStatsStatusFAILED, 6000),
		}, Times{Completed: time.UnixMilli(1000), CompletedPath: "s3://c/chk-4", Retained: true}},
		{"one in progress without a time is not pending", []api.CheckpointStatistics{
			inHistory(api.CheckpointStatsStatusINPROGRESS, 0),
		}, Times{Completed: time.UnixMilli(1000), CompletedPath: "s3://c/chk-4", Retained: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Read(context.Background(), statistics{stats: api.CheckpointingStatistics{Latest: latest, History: tc.history}}, "j1")
			if err != nil || got != tc.want {
				t.Errorf("Read = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
	t.Run("unreadable", func(t *testing.T) {
		cause := errors.New("timeout")
		got, err := Read(context.Background(), statistics{err: cause}, "j1")
		if !errors.Is(err, cause) || got != (Times{}) {
			t.Errorf("Read = %+v, %v; want no times and an error wrapping %v", got, err, cause)
		}
	})
}

// TestNames: a path is named when Flink reports it as the job's latest
// completed checkpoint, latest savepoint or restore; no path, and the
// marker of one not externally addressable, are never named.
func TestNames(t *testing.T) {
	latest := api.LatestCheckpoints{
		Completed: api.CompletedCheckpointStatistics{Id: 8, ExternalPath: "s3://c/chk-8"},
		Savepoint: api.CompletedCheckpointStatistics{Id: 6, ExternalPath: "s3://s/sp-6"},
		Restored:  api.RestoredCheckpointStatistics{Id: 2, ExternalPath: "s3://s/sp-2"},
	}
	unaddressable := api.LatestCheckpoints{Completed: api.CompletedCheckpointStatistics{Id: 3, ExternalPath: notExternallyAddressable}}
	for _, tc := range []struct {
		name   string
		latest api.LatestCheckpoints
		path   string
		want   bool
	}{
		{"the latest checkpoint", latest, "s3://c/chk-8", true},
		{"the latest savepoint", latest, "s3://s/sp-6", true},
		{"the restore", latest, "s3://s/sp-2", true},
		{"another savepoint", latest, "s3://s/sp-1", false},
		{"no path", api.LatestCheckpoints{}, "", false},
		{"not externally addressable", unaddressable, notExternallyAddressable, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Names(tc.latest, tc.path); got != tc.want {
				t.Errorf("Names(%q) = %t, want %t", tc.path, got, tc.want)
			}
		})
	}
}

// TestNewest: the upgrade of a job that ended starts from the
// newer of Flink's latest retained state (weighed by id, as upstream's
// getLatestCompletedCheckpoint) and the newest savepoint recorded. A
// savepoint Flink names was weighed already, whatever the hub's clock
// says; one Flink does not name wins only when Flink reports nothing or
// an older time; the savepoint is kept when Flink's newest has no path
// only if it is newer than it.
func TestNewest(t *testing.T) {
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
		from       Source
	}{
		{"a checkpoint after the savepoint Flink names, recorded late", cpAfterSp, sp, 9000, "s3://c/chk-6", FromFlink},
		{"the savepoint Flink names is the newest", api.LatestCheckpoints{Completed: chk4, Savepoint: sp5}, sp, 3500, sp, FromFlink},
		{"a checkpoint newer than a savepoint Flink does not name", cpAfterSp, "s3://s/other", 3500, "s3://c/chk-6", FromFlink},
		{"a savepoint Flink does not name, newer", restored, sp, 2000, sp, FromRecorded},
		{"a recorded start point of unknown time", restored, "s3://s/start", 0, "s3://s/sp-2", FromFlink},
		{"Flink reports nothing: the savepoint", api.LatestCheckpoints{}, sp, 0, sp, FromRecorded},
		{"nothing at all", api.LatestCheckpoints{}, "", 0, "", NoState},
		{"Flink's newest has no path", api.LatestCheckpoints{Completed: blind, Savepoint: sp5}, sp, 3500, "", NotAddressable},
		{"no path, an older savepoint Flink does not name", api.LatestCheckpoints{Completed: blind}, sp, 3000, "", NotAddressable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var at time.Time
			if tc.recordedAt > 0 {
				at = time.UnixMilli(tc.recordedAt)
			}
			if got, from := Newest(tc.latest, tc.recorded, at); got != tc.want || from != tc.from {
				t.Errorf("Newest = %q, %d; want %q, %d", got, from, tc.want, tc.from)
			}
		})
	}
}
