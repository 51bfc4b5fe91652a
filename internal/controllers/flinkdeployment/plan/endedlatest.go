package plan

import (
	"encoding/json"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/flinkrest/api"
)

// InfoEndedLatest is the status.clusterInfo key under which the hub keeps
// what Flink reported of the latest checkpoints of a job that ended
// (RecordLatest), read while its JobManager answered: once the JobManager
// is gone (shut down after its TTL, deleted), an upgrade or a restart of
// the job still starts from its latest state (endedState), as upstream's
// observer keeps it (SnapshotObserver.observeLatestCheckpoint records it
// as upgradeSavepointPath). It is not kept in upgradeSavepointPath: an
// upgrade clears that when it begins, so that only what the upgrade
// itself captured is taken for the job's state.
const InfoEndedLatest = "ended-job-latest-checkpoints"

// keptLatest is InfoEndedLatest's value: the job it was read of and what
// Flink reported of its latest checkpoints, as much as endedState weighs.
type keptLatest struct {
	JobID     string         `json:"jobId"`
	Completed keptCheckpoint `json:"completed,omitzero"`
	Savepoint keptCheckpoint `json:"savepoint,omitzero"`
	Restored  keptCheckpoint `json:"restored,omitzero"`
}

// keptCheckpoint is a checkpoint's id, time (its trigger or restore time,
// epoch milliseconds) and path, as Flink reported them.
type keptCheckpoint struct {
	ID        int64  `json:"id,omitempty"`
	Timestamp int64  `json:"timestamp,omitempty"`
	Path      string `json:"path,omitempty"`
}

// RecordLatest keeps latest, what Flink reported of the latest
// checkpoints of st's job (an empty one when it reported none), in
// status.clusterInfo (InfoEndedLatest).
func RecordLatest(st *v1beta1.FlinkDeploymentStatus, latest api.LatestCheckpoints) {
	kept := keptLatest{
		JobID:     st.JobStatus.JobID,
		Completed: keptCheckpoint{latest.Completed.Id, latest.Completed.TriggerTimestamp, latest.Completed.ExternalPath},
		Savepoint: keptCheckpoint{latest.Savepoint.Id, latest.Savepoint.TriggerTimestamp, latest.Savepoint.ExternalPath},
		Restored:  keptCheckpoint{latest.Restored.Id, latest.Restored.RestoreTimestamp, latest.Restored.ExternalPath},
	}
	raw, err := json.Marshal(kept)
	if err != nil {
		return // strings and numbers always marshal
	}
	if st.ClusterInfo == nil {
		st.ClusterInfo = map[string]string{}
	}
	st.ClusterInfo[InfoEndedLatest] = string(raw)
}

// KeptLatest is what RecordLatest kept of the latest checkpoints of st's
// job; ok is false when nothing was kept of it (nothing, or of another
// job, or a value that does not decode).
func KeptLatest(st *v1beta1.FlinkDeploymentStatus) (latest *api.LatestCheckpoints, ok bool) {
	raw, found := st.ClusterInfo[InfoEndedLatest]
	if !found || st.JobStatus.JobID == "" {
		return nil, false
	}
	var kept keptLatest
	if err := json.Unmarshal([]byte(raw), &kept); err != nil || kept.JobID != st.JobStatus.JobID {
		return nil, false
	}
	return &api.LatestCheckpoints{
		Completed: api.CompletedCheckpointStatistics{Id: kept.Completed.ID, TriggerTimestamp: kept.Completed.Timestamp, ExternalPath: kept.Completed.Path},
		Savepoint: api.CompletedCheckpointStatistics{Id: kept.Savepoint.ID, TriggerTimestamp: kept.Savepoint.Timestamp, ExternalPath: kept.Savepoint.Path},
		Restored:  api.RestoredCheckpointStatistics{Id: kept.Restored.ID, RestoreTimestamp: kept.Restored.Timestamp, ExternalPath: kept.Restored.Path},
	}, true
}

// ForgetLatest drops what RecordLatest kept: the cluster of the job it
// was read of is replaced.
func ForgetLatest(st *v1beta1.FlinkDeploymentStatus) {
	delete(st.ClusterInfo, InfoEndedLatest)
}

// endedLatest is what is known of the latest checkpoints of the job that
// ended: while its JobManager answers, Flink's answer (nil until read,
// ReadCheckpoints); once it does not, what was kept of it before
// (KeptLatest); known is false when neither.
func endedLatest(in Input) (latest *api.LatestCheckpoints, known bool) {
	if flinkAnswers(in) {
		return in.Latest, true
	}
	return KeptLatest(in.Status)
}

// latestKept reports that what Flink reported of the latest checkpoints
// of st's job is kept (KeptLatest).
func latestKept(st *v1beta1.FlinkDeploymentStatus) bool {
	_, ok := KeptLatest(st)
	return ok
}
