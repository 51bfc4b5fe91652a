package flinkdeployment

import (
	"errors"
	"fmt"
	"testing"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/flinkrest"
)

// TestNoCheckpointStatistics: Flink's 404 for the checkpoint statistics
// of a job that ended, FAILED, FINISHED or CANCELED alike, is no
// checkpoint reported; a 404 of a job that has not ended, and any other
// failure, is not.
func TestNoCheckpointStatistics(t *testing.T) {
	notFound := fmt.Errorf("read the job's checkpoint statistics: %w", &flinkrest.Error{Kind: flinkrest.KindNotFound, Message: "Checkpointing has not been enabled."})
	unavailable := &flinkrest.Error{Kind: flinkrest.KindServerError, Message: "503"}
	for _, tc := range []struct {
		name  string
		state v1beta1.JobStatusState
		err   error
		want  bool
	}{
		{"failed, 404", v1beta1.JobFailed, notFound, true},
		{"finished, 404", v1beta1.JobFinished, notFound, true},
		{"cancelled, 404", v1beta1.JobCanceled, notFound, true},
		{"running, 404", v1beta1.JobRunning, notFound, false},
		{"cancelling, 404", v1beta1.JobCancelling, notFound, false},
		{"reconciling, 404", v1beta1.JobReconciling, notFound, false},
		{"cancelled, 503", v1beta1.JobCanceled, unavailable, false},
		{"failed, timeout", v1beta1.JobFailed, errors.New("timeout"), false},
		{"cancelled, read", v1beta1.JobCanceled, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := &v1beta1.FlinkDeploymentStatus{JobStatus: v1beta1.JobStatus{State: tc.state, JobID: "0123456789abcdef0123456789abcdef"}}
			if got := noCheckpointStatistics(st, tc.err); got != tc.want {
				t.Errorf("noCheckpointStatistics = %t, want %t", got, tc.want)
			}
		})
	}
}
