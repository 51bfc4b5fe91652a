package plan

import (
	"reflect"
	"testing"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/flinkrest/api"
)

// TestKeptLatest: what RecordLatest keeps of a job's latest checkpoints
// comes back whole for that job only; another job's, a value that does
// not decode, or one forgotten is nothing kept.
func TestKeptLatest(t *testing.T) {
	latest := api.LatestCheckpoints{
		Completed: api.CompletedCheckpointStatistics{Id: 7, TriggerTimestamp: 7000, ExternalPath: "s3://c/chk-7"},
		Savepoint: api.CompletedCheckpointStatistics{Id: 5, TriggerTimestamp: 5000, ExternalPath: "s3://b/sp-5"},
		Restored:  api.RestoredCheckpointStatistics{Id: 3, RestoreTimestamp: 3000, ExternalPath: "s3://b/sp-3"},
	}
	kept := func(jobID string, change func(*v1beta1.FlinkDeploymentStatus)) *v1beta1.FlinkDeploymentStatus {
		st := &v1beta1.FlinkDeploymentStatus{JobStatus: v1beta1.JobStatus{JobID: "j1"}, ClusterInfo: map[string]string{"flink-version": "2.2"}}
		RecordLatest(st, latest)
		st.JobStatus.JobID = jobID
		if change != nil {
			change(st)
		}
		return st
	}
	for _, tc := range []struct {
		name string
		st   *v1beta1.FlinkDeploymentStatus
		want *api.LatestCheckpoints
	}{
		{"kept of the job", kept("j1", nil), &latest},
		{"nothing retained, kept", edit(kept("j1", nil), func(st *v1beta1.FlinkDeploymentStatus) { RecordLatest(st, api.LatestCheckpoints{}) }), &api.LatestCheckpoints{}},
		{"kept of another job", kept("j2", nil), nil},
		{"no job", kept("", nil), nil},
		{"not kept", &v1beta1.FlinkDeploymentStatus{JobStatus: v1beta1.JobStatus{JobID: "j1"}}, nil},
		{"does not decode", kept("j1", func(st *v1beta1.FlinkDeploymentStatus) { st.ClusterInfo[InfoEndedLatest] = "{" }), nil},
		{"forgotten", kept("j1", ForgetLatest), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := KeptLatest(tc.st)
			if ok != (tc.want != nil) || (ok && !reflect.DeepEqual(*got, *tc.want)) {
				t.Errorf("KeptLatest = %+v, %t; want %+v", got, ok, tc.want)
			}
			if tc.st.ClusterInfo != nil && tc.st.ClusterInfo["flink-version"] != "2.2" {
				t.Errorf("other clusterInfo lost: %v", tc.st.ClusterInfo)
			}
		})
	}
}
