// Package checkpoints reads what Flink's checkpoint statistics of a job
// (GET /jobs/{id}/checkpoints) say of the state the job keeps: its latest
// retained checkpoint or savepoint, and when its newest pending checkpoint
// was triggered. The FlinkDeployment and FlinkSessionJob controllers both
// read a job's last state through it.
package checkpoints

import (
	"context"
	"fmt"
	"time"

	"github.com/flink-hub/flink-hub/internal/flinkrest/api"
)

// Times are when the job's latest completed and pending checkpoints were
// triggered; zero for none.
type Times struct {
	Completed, Pending time.Time
	// CompletedPath is where the latest completed checkpoint is.
	CompletedPath string
	// Retained reports that Flink named a completed checkpoint, a
	// savepoint or a restored one (Completed and CompletedPath describe
	// the newest), with or without a time or path.
	Retained bool
}

// StatisticsReader reads a job's checkpoint statistics; flinkrest.Client
// is one.
type StatisticsReader interface {
	// CheckpointStatistics returns checkpoint counts, the latest
	// completed, failed, restored checkpoints and savepoint.
	CheckpointStatistics(ctx context.Context, jobID string) (*api.CheckpointingStatistics, error)
}

// Statistics reads the job's checkpoint statistics; an error says what
// was read.
func Statistics(ctx context.Context, jm StatisticsReader, jobID string) (*api.CheckpointingStatistics, error) {
	stats, err := jm.CheckpointStatistics(ctx, jobID)
	if err != nil {
		return nil, fmt.Errorf("read the job's checkpoint statistics: %w", err)
	}
	return stats, nil
}

// Read reads the job's latest retained checkpoint (LatestRetained) and
// when its newest pending one was triggered from Flink's checkpoint
// statistics.
func Read(ctx context.Context, jm StatisticsReader, jobID string) (Times, error) {
	stats, err := Statistics(ctx, jm, jobID)
	if err != nil {
		return Times{}, err
	}
	return Of(stats), nil
}

// Of is what the job's checkpoint statistics say of its latest retained
// checkpoint (LatestRetained) and of when its newest pending one was
// triggered.
func Of(stats *api.CheckpointingStatistics) Times {
	out := LatestRetained(stats.Latest)
	for _, h := range stats.History {
		if h.Status == api.CheckpointStatsStatusINPROGRESS && h.TriggerTimestamp > 0 && time.UnixMilli(h.TriggerTimestamp).After(out.Pending) {
			out.Pending = time.UnixMilli(h.TriggerTimestamp)
		}
	}
	return out
}

// notExternallyAddressable is the path Flink reports for a checkpoint
// whose metadata only the JobManager held (no checkpoint directory:
// NonPersistentMetadataCheckpointStorageLocation): no path to restore
// from.
const notExternallyAddressable = "<checkpoint-not-externally-addressable>"

// LatestRetained is, as upstream's getLatestCompletedCheckpoint, the
// newest (by id) of the job's latest completed checkpoint, latest
// savepoint and the checkpoint or savepoint it was restored from: a job
// cancelled before its first checkpoint since a restore still has its
// state there. Its time is when it was taken, or restored.
func LatestRetained(latest api.LatestCheckpoints) Times {
	var out Times
	id := int64(-1)
	consider := func(cid int64, path string, at int64) {
		if path == notExternallyAddressable {
			path = ""
		}
		if (at > 0 || path != "") && cid > id {
			id, out.CompletedPath, out.Retained = cid, path, true
			out.Completed = time.Time{}
			if at > 0 {
				out.Completed = time.UnixMilli(at)
			}
		}
	}
	r := latest.Restored
	consider(r.Id, r.ExternalPath, r.RestoreTimestamp)
	for _, c := range []api.CompletedCheckpointStatistics{latest.Completed, latest.Savepoint} {
		consider(c.Id, c.ExternalPath, c.TriggerTimestamp)
	}
	return out
}

// Names reports whether Flink's latest checkpoints name path as the job's
// latest completed checkpoint, its latest savepoint or the checkpoint or
// savepoint it was restored from: LatestRetained then already weighed it,
// by id.
func Names(latest api.LatestCheckpoints, path string) bool {
	if path == "" || path == notExternallyAddressable {
		return false
	}
	return path == latest.Completed.ExternalPath || path == latest.Savepoint.ExternalPath || path == latest.Restored.ExternalPath
}

// Source says where the latest state of a job that ended is (Newest).
type Source int

const (
	// FromFlink is the job's latest retained checkpoint or savepoint as
	// Flink reports it (LatestRetained).
	FromFlink Source = iota
	// FromRecorded is the newest savepoint the status records, newer than
	// anything Flink reports of the job.
	FromRecorded
	// NoState is neither: nothing of the job's state is known.
	NoState
	// NotAddressable is Flink's latest checkpoint, named without a path.
	NotAddressable
)

// Newest chooses, for a job that ended, the newer of its latest retained
// state as Flink reports it (latest) and the newest savepoint the status
// records (recorded, taken at recordedAt, zero when not known), as
// upstream restores an ended job from the latest checkpoint Flink
// reports. One that Flink names was weighed by id already (Names):
// Flink's newest stands. Else the recorded one wins when Flink reports
// nothing, or an older time.
func Newest(latest api.LatestCheckpoints, recorded string, recordedAt time.Time) (string, Source) {
	flink := LatestRetained(latest)
	switch {
	case recorded != "" && !Names(latest, recorded) && (!flink.Retained || recordedAt.After(flink.Completed)):
		return recorded, FromRecorded
	case !flink.Retained:
		return "", NoState
	case flink.CompletedPath == "":
		return "", NotAddressable
	}
	return flink.CompletedPath, FromFlink
}
