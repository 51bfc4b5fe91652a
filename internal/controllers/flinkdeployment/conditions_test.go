package flinkdeployment

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/problem"
)

func TestReadyCondition(t *testing.T) {
	cases := []struct {
		name       string
		st         v1beta1.FlinkDeploymentStatus
		p          problem.Problem
		wantStatus metav1.ConditionStatus
		wantReason string
	}{
		{"a problem gives its reason", v1beta1.FlinkDeploymentStatus{LifecycleState: v1beta1.LifecycleStable}, problem.New(problem.SavepointFailed, "savepoint failed: x"), metav1.ConditionFalse, "SavepointFailed"},
		{"stable", v1beta1.FlinkDeploymentStatus{LifecycleState: v1beta1.LifecycleStable}, problem.Problem{}, metav1.ConditionTrue, "Stable"},
		{"suspended", v1beta1.FlinkDeploymentStatus{LifecycleState: v1beta1.LifecycleSuspended}, problem.Problem{}, metav1.ConditionFalse, "Suspended"},
		{"deploying", v1beta1.FlinkDeploymentStatus{LifecycleState: v1beta1.LifecycleDeployed}, problem.Problem{}, metav1.ConditionFalse, "Progressing"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := readyCondition(&tc.st, tc.p, 7)
			if c.Type != ConditionReady || c.Status != tc.wantStatus || c.Reason != tc.wantReason || c.ObservedGeneration != 7 || c.Message == "" {
				t.Errorf("got %+v", c)
			}
			if !tc.p.IsZero() && c.Message != tc.p.Message {
				t.Errorf("message %q, want the problem's", c.Message)
			}
		})
	}
}

func TestRunningCondition(t *testing.T) {
	app := func(state v1beta1.JobStatusState) *v1beta1.FlinkDeployment {
		return &v1beta1.FlinkDeployment{Spec: v1beta1.FlinkDeploymentSpec{Job: &v1beta1.JobSpec{}}, Status: v1beta1.FlinkDeploymentStatus{JobStatus: v1beta1.JobStatus{State: state}}}
	}
	session := func(jm v1beta1.JobManagerDeploymentStatus) *v1beta1.FlinkDeployment {
		return &v1beta1.FlinkDeployment{Status: v1beta1.FlinkDeploymentStatus{JobManagerDeploymentStatus: jm}}
	}
	cases := []struct {
		name       string
		fd         *v1beta1.FlinkDeployment
		wantStatus metav1.ConditionStatus
		wantReason string
	}{
		{"job running", app(v1beta1.JobRunning), metav1.ConditionTrue, "RUNNING"},
		{"job failed", app(v1beta1.JobFailed), metav1.ConditionFalse, "FAILED"},
		{"job not observed yet", app(""), metav1.ConditionFalse, "UNKNOWN"},
		{"session ready", session(v1beta1.JobManagerReady), metav1.ConditionTrue, "JobManagerReady"},
		{"session not ready", session(v1beta1.JobManagerDeployedNotReady), metav1.ConditionFalse, "DeployedNotReady"},
		{"session deploying", session(v1beta1.JobManagerDeploying), metav1.ConditionFalse, "JobManagerIsDeploying"},
		{"session error", session(v1beta1.JobManagerError), metav1.ConditionFalse, "Error"},
		{"session missing", session(v1beta1.JobManagerMissing), metav1.ConditionFalse, "JobManagerDeploymentMissing"},
		{"session never deployed", session(""), metav1.ConditionFalse, "JobManagerDeploymentMissing"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := runningCondition(tc.fd)
			if c.Type != ConditionRunning || c.Status != tc.wantStatus || c.Reason != tc.wantReason || c.Message == "" {
				t.Errorf("got %+v, want %s %s", c, tc.wantStatus, tc.wantReason)
			}
		})
	}
}
