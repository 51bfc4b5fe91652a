package plan

import (
	"testing"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
)

func TestStable(t *testing.T) {
	app := &v1beta1.FlinkDeploymentSpec{Job: &v1beta1.JobSpec{}}
	session := &v1beta1.FlinkDeploymentSpec{}
	ready := v1beta1.FlinkDeploymentStatus{JobManagerDeploymentStatus: v1beta1.JobManagerReady}
	readyRunning := ready
	readyRunning.JobStatus.State = v1beta1.JobRunning
	if Stable(&ready, app) || !Stable(&readyRunning, app) || !Stable(&ready, session) {
		t.Fatal("stable means JobManager ready and, for applications, the job running")
	}
	finished := ready
	finished.JobStatus.State = v1beta1.JobFinished
	if !Stable(&finished, app) {
		t.Fatal("a bounded job that finished on its own is stable, as upstream marks it")
	}
	if Stable(&finished, &v1beta1.FlinkDeploymentSpec{Job: &v1beta1.JobSpec{State: v1beta1.JobStateSuspended}}) {
		t.Fatal("a job finished by a suspend is not a stable deployment")
	}
	notReady := v1beta1.FlinkDeploymentStatus{JobManagerDeploymentStatus: v1beta1.JobManagerDeployedNotReady}
	if Stable(&notReady, session) {
		t.Fatal("a JobManager that is not ready is not stable")
	}
}
