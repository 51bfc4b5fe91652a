package flinksessionjob

import (
	"strconv"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/cluster"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
)

// eventsOnly is a member cluster that only takes events.
type eventsOnly struct{ cluster.Cluster }

// GetEventRecorder drops the events.
func (eventsOnly) GetEventRecorder(string) events.EventRecorder { return events.NewFakeRecorder(10) }

// TestOperatorOnlyChangeKeepsTheReconciliationTimestamp: a change that
// restarts nothing (an operator setting) keeps the reconciliation
// timestamp, as upstream's updateReconciliationMetadata does, so a job
// the session cluster loses afterwards is submitted again from the
// savepoint completed since its submission, not the older one it
// started from, whether its start time is known or not. Before, the
// change got a new timestamp, and with the start time unknown the
// manual savepoint taken before the change looked older than the
// submission.
func TestOperatorOnlyChangeKeepsTheReconciliationTimestamp(t *testing.T) {
	now := time.Now()
	submitted, saved := now.Add(-time.Hour), now.Add(-30*time.Minute)
	for _, tc := range []struct {
		name    string
		started string // status.jobStatus.startTime, "" unknown
	}{
		{name: "start time unknown"},
		{name: "start time known", started: strconv.FormatInt(submitted.Add(time.Second).UnixMilli(), 10)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			last := v1beta1.FlinkSessionJobSpec{DeploymentName: "session", Job: &v1beta1.JobSpec{JarURI: "https://a/job.jar", Parallelism: 2, UpgradeMode: v1beta1.UpgradeModeSavepoint}}
			job := &v1beta1.FlinkSessionJob{Spec: *last.DeepCopy()}
			job.Spec.FlinkConfiguration = &apiextensionsv1.JSON{Raw: []byte(`{"kubernetes.operator.savepoint.history.max.count":"5"}`)}
			job.Status.ReconciliationStatus = v1beta1.ReconciliationStatus{State: v1beta1.ReconciliationDeployed, ReconciliationTimestamp: submitted.UnixMilli()}
			job.Status.JobStatus = v1beta1.JobStatus{State: v1beta1.JobRunning, JobID: "0123456789abcdef0123456789abcdef", StartTime: tc.started, UpgradeSavepointPath: "file:///sp/savepoint-0",
				SavepointInfo: &v1beta1.SavepointInfo{LastSavepoint: &v1beta1.Savepoint{Location: "file:///sp/savepoint-1", TimeStamp: saved.UnixMilli()}}}
			s := &state{cluster: eventsOnly{}, job: job, last: &last}
			r := &Reconciler{Now: func() time.Time { return now }}
			if err := r.recordWithoutRestart(s); err != nil {
				t.Fatal(err)
			}
			if at := job.Status.ReconciliationStatus.ReconciliationTimestamp; at != submitted.UnixMilli() {
				t.Errorf("reconciliation timestamp %d, want %d (kept)", at, submitted.UnixMilli())
			}
			r.jobMissing(s)
			if from := job.Status.JobStatus.UpgradeSavepointPath; from != "file:///sp/savepoint-1" {
				t.Errorf("the lost job is submitted again from %q, want the newer file:///sp/savepoint-1", from)
			}
		})
	}
}
