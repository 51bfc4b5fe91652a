package flinkdeployment

import (
	"testing"
	"time"

	"github.com/flink-hub/flink-hub/internal/controllers/flinkdeployment/plan"
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
		want   plan.CheckpointTimes
	}{
		{"nothing", api.LatestCheckpoints{}, plan.CheckpointTimes{}},
		{"restored, no checkpoint since", api.LatestCheckpoints{Restored: restored},
			plan.CheckpointTimes{Completed: time.UnixMilli(3000), CompletedPath: "s3://c/old/chk-7", Retained: true}},
		{"a checkpoint since the restore", api.LatestCheckpoints{Restored: restored, Completed: completed(8, 4000, "s3://c/new/chk-8")},
			plan.CheckpointTimes{Completed: time.UnixMilli(4000), CompletedPath: "s3://c/new/chk-8", Retained: true}},
		{"a savepoint after the checkpoint", api.LatestCheckpoints{Completed: completed(8, 4000, "s3://c/new/chk-8"), Savepoint: completed(9, 5000, "s3://s/sp-9")},
			plan.CheckpointTimes{Completed: time.UnixMilli(5000), CompletedPath: "s3://s/sp-9", Retained: true}},
		{"an older savepoint", api.LatestCheckpoints{Completed: completed(8, 4000, "s3://c/new/chk-8"), Savepoint: completed(2, 1000, "s3://s/sp-2")},
			plan.CheckpointTimes{Completed: time.UnixMilli(4000), CompletedPath: "s3://c/new/chk-8", Retained: true}},
		// A checkpoint Flink names without a time still holds state; one
		// without a path is there, but cannot be restored.
		{"a checkpoint without a time", api.LatestCheckpoints{Completed: completed(3, 0, "s3://c/chk-3")},
			plan.CheckpointTimes{CompletedPath: "s3://c/chk-3", Retained: true}},
		{"a checkpoint without a path", api.LatestCheckpoints{Completed: completed(3, 2000, "")},
			plan.CheckpointTimes{Completed: time.UnixMilli(2000), Retained: true}},
		// Flink's answer for a checkpoint whose metadata only the
		// JobManager held (no checkpoint directory): no path.
		{"a checkpoint not externally addressable", api.LatestCheckpoints{Completed: completed(3, 2000, "<checkpoint-not-externally-addressable>")},
			plan.CheckpointTimes{Completed: time.UnixMilli(2000), Retained: true}},
		{"restored from one not externally addressable", api.LatestCheckpoints{Restored: api.RestoredCheckpointStatistics{Id: 7, RestoreTimestamp: 3000, ExternalPath: "<checkpoint-not-externally-addressable>"}},
			plan.CheckpointTimes{Completed: time.UnixMilli(3000), Retained: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := LatestRetained(tc.latest); got != tc.want {
				t.Errorf("LatestRetained = %+v, want %+v", got, tc.want)
			}
		})
	}
}
