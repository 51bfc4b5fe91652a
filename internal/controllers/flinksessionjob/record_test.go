package flinksessionjob

import (
	"context"
	"fmt"
	"reflect"
	"strconv"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/ptr"
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

// TestRecordKeepsHandledNonces: the submission, a resume, an upgrade or a
// suspended job's change records the spec with the last handled snapshot
// trigger nonces, as upstream's updateStatusForSpecReconciliation: a new
// one stays pending for the snapshot steps, an unset one asks for nothing
// and keeps the one handled (v1beta1.NonceAsks). The first submission
// records the spec's as they are. The spec itself is left alone.
func TestRecordKeepsHandledNonces(t *testing.T) {
	spec := func(savepoint, checkpoint *int64, parallelism int32) *v1beta1.FlinkSessionJobSpec {
		return &v1beta1.FlinkSessionJobSpec{DeploymentName: "session", Job: &v1beta1.JobSpec{JarURI: "https://a/job.jar", Parallelism: parallelism,
			SavepointTriggerNonce: savepoint, CheckpointTriggerNonce: checkpoint}}
	}
	one, two, three := ptr.To[int64](1), ptr.To[int64](2), ptr.To[int64](3)
	for _, tc := range []struct {
		name       string
		spec, last *v1beta1.FlinkSessionJobSpec
		want       *v1beta1.FlinkSessionJobSpec
	}{
		{"first submission: the nonces as they are", spec(two, three, 2), nil, spec(two, three, 2)},
		{"new nonces beside a change stay pending", spec(two, three, 4), spec(one, nil, 2), spec(one, nil, 4)},
		{"unset nonces keep the handled ones", spec(nil, nil, 4), spec(one, one, 2), spec(one, one, 4)},
		{"handled nonces", spec(one, one, 4), spec(one, one, 2), spec(one, one, 4)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			job := &v1beta1.FlinkSessionJob{Spec: *tc.spec.DeepCopy()}
			s := &state{job: job, last: tc.last}
			if err := (&Reconciler{}).record(s, tc.last == nil); err != nil {
				t.Fatal(err)
			}
			recorded, err := decodeSpec(job.Status.ReconciliationStatus.LastReconciledSpec)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(recorded, tc.want) || !reflect.DeepEqual(s.last, tc.want) {
				t.Errorf("recorded %s (in the state %s), want %s", nonces(recorded), nonces(s.last), nonces(tc.want))
			}
			if !reflect.DeepEqual(&job.Spec, tc.spec) {
				t.Errorf("the spec itself was changed: %s, was %s", nonces(&job.Spec), nonces(tc.spec))
			}
		})
	}
}

// nonces shows a spec's parallelism and snapshot trigger nonces (-1
// unset).
func nonces(spec *v1beta1.FlinkSessionJobSpec) string {
	j := spec.Job
	return fmt.Sprintf("parallelism %d, savepoint nonce %d, checkpoint nonce %d", j.Parallelism, ptr.Deref(j.SavepointTriggerNonce, -1), ptr.Deref(j.CheckpointTriggerNonce, -1))
}

// TestNonceAloneIsSeen: a generation whose only change is a new
// savepointTriggerNonce or checkpointTriggerNonce the hub cannot take yet
// (the job suspended, or not running) moves status.observedGeneration, as
// a FlinkDeployment's report does and upstream's updateReconciliationMetadata
// on a change its diff ignores; the nonce stays pending (not recorded as
// handled) and nothing else of the status changes. Before, only the Ready
// condition said the generation was seen.
func TestNonceAloneIsSeen(t *testing.T) {
	one, seven := ptr.To[int64](1), ptr.To[int64](7)
	for _, tc := range []struct {
		name                  string
		suspended             bool
		job                   v1beta1.JobStatusState
		savepoint, checkpoint *int64 // the spec's new nonces
	}{
		{"suspended: savepoint nonce", true, v1beta1.JobSuspended, seven, one},
		{"suspended: checkpoint nonce", true, v1beta1.JobSuspended, one, seven},
		{"job not running yet: savepoint nonce", false, v1beta1.JobReconciling, seven, one},
	} {
		t.Run(tc.name, func(t *testing.T) {
			last := v1beta1.FlinkSessionJobSpec{DeploymentName: "session", Job: &v1beta1.JobSpec{JarURI: "https://a/job.jar", Parallelism: 2,
				UpgradeMode: v1beta1.UpgradeModeSavepoint, SavepointTriggerNonce: one, CheckpointTriggerNonce: one}}
			if tc.suspended {
				last.Job.State = v1beta1.JobStateSuspended
			}
			job := &v1beta1.FlinkSessionJob{Spec: *last.DeepCopy()}
			job.Spec.Job.SavepointTriggerNonce, job.Spec.Job.CheckpointTriggerNonce = tc.savepoint, tc.checkpoint
			job.Generation = 3
			encoded, err := encodeSpec(&last, false)
			if err != nil {
				t.Fatal(err)
			}
			job.Status.ObservedGeneration = 2
			job.Status.ReconciliationStatus = v1beta1.ReconciliationStatus{State: v1beta1.ReconciliationDeployed, LastReconciledSpec: encoded, ReconciliationTimestamp: 1000}
			job.Status.JobStatus = v1beta1.JobStatus{State: tc.job, JobID: "0123456789abcdef0123456789abcdef"}
			want := job.Status.DeepCopy()
			want.ObservedGeneration = 3
			s := &state{cluster: eventsOnly{}, job: job, last: &last}
			if err := (&Reconciler{Now: time.Now}).reconcileSpec(context.Background(), s, nil); err != nil {
				t.Fatal(err)
			}
			if !equalStatus(&job.Status, want) {
				t.Errorf("status %+v, want %+v: the generation seen, the nonce pending, nothing else changed", job.Status, *want)
			}
		})
	}
}
