package flinksessionjob

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/problem"
)

func TestReadyCondition(t *testing.T) {
	for _, tc := range []struct {
		name      string
		problem   problem.Problem
		lifecycle v1beta1.ResourceLifecycleState
		job       v1beta1.JobStatusState
		want      metav1.Condition
	}{
		{name: "running", job: v1beta1.JobRunning,
			want: metav1.Condition{Status: metav1.ConditionTrue, Reason: "Running", Message: "the job runs"}},
		{name: "a problem wins over a running job", job: v1beta1.JobRunning, problem: problem.New(problem.SavepointFailed, "savepoint failed: disk full"),
			want: metav1.Condition{Status: metav1.ConditionFalse, Reason: "SavepointFailed", Message: "savepoint failed: disk full"}},
		{name: "suspended", lifecycle: v1beta1.LifecycleSuspended, job: v1beta1.JobSuspended,
			want: metav1.Condition{Status: metav1.ConditionFalse, Reason: "Suspended", Message: "the job is suspended"}},
		{name: "on its way", job: v1beta1.JobReconciling,
			want: metav1.Condition{Status: metav1.ConditionFalse, Reason: "Progressing", Message: "job RECONCILING"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			job := &v1beta1.FlinkSessionJob{ObjectMeta: metav1.ObjectMeta{Generation: 4}}
			job.Status.LifecycleState, job.Status.JobStatus.State = tc.lifecycle, tc.job
			got := readyCondition(&state{job: job, problem: tc.problem})
			want := tc.want
			want.Type, want.ObservedGeneration = "Ready", 4
			if got != want {
				t.Errorf("readyCondition = %+v, want %+v", got, want)
			}
		})
	}
}
