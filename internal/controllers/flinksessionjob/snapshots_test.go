package flinksessionjob

import (
	"context"
	"strconv"
	"testing"
	"time"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/flinkconf"
)

// TestPeriodicSavepointNotDueWritesNothing: a running session job whose
// periodic savepoint is not due keeps its status as it was (no empty
// savepointInfo, which would be a status write for nothing) and asks
// Flink nothing.
func TestPeriodicSavepointNotDueWritesNothing(t *testing.T) {
	job := &v1beta1.FlinkSessionJob{Spec: v1beta1.FlinkSessionJobSpec{DeploymentName: "session", Job: &v1beta1.JobSpec{JarURI: "https://a/job.jar", Parallelism: 2}}}
	job.Status.JobStatus = v1beta1.JobStatus{State: v1beta1.JobRunning, JobID: "0123456789abcdef0123456789abcdef", StartTime: strconv.FormatInt(time.Now().UnixMilli(), 10)}
	s := &state{job: job, last: job.Spec.DeepCopy(), defaults: map[string]string{flinkconf.KeyPeriodicSavepointInterval: "1h"}, next: 2 * time.Hour}
	r := &Reconciler{Now: time.Now}
	busy, err := r.savepoints(context.Background(), s, nil)
	if err != nil || busy {
		t.Fatalf("savepoints: busy %v, error %v; want neither", busy, err)
	}
	if info := job.Status.JobStatus.SavepointInfo; info != nil {
		t.Fatalf("savepointInfo made with nothing due: %+v", info)
	}
	if s.next > time.Hour {
		t.Fatalf("next look in %s; want the periodic savepoint's wait (at most 1h)", s.next)
	}
}
