package problem

import (
	"encoding/json"
	"testing"
)

func TestEncodeWritesTheApacheOperatorsExceptionJSON(t *testing.T) {
	cases := []struct {
		name     string
		p        Problem
		wantType string
	}{
		{"validation", New(InvalidSpec, `invalid spec: spec.job.parallelism: Invalid value: "x"`), "org.apache.flink.kubernetes.operator.exception.ValidationException"},
		{"deployment", New(JobManagerDeploymentFailed, "JobManager deployment x failed: [c] CrashLoop"), "org.apache.flink.kubernetes.operator.exception.DeploymentFailedException"},
		{"restore", New(ManualRestoreRequired, "Manual restore required."), "org.apache.flink.kubernetes.operator.exception.UpgradeFailureException"},
		{"other", New(SavepointFailed, "savepoint failed: disk full"), "org.apache.flink.kubernetes.operator.exception.ReconciliationException"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got struct {
				Type               string            `json:"type"`
				Message            string            `json:"message"`
				AdditionalMetadata map[string]string `json:"additionalMetadata"`
			}
			if err := json.Unmarshal([]byte(Encode(tc.p)), &got); err != nil {
				t.Fatalf("status.error is not JSON: %v", err)
			}
			if got.Type != tc.wantType || got.Message != tc.p.Message || got.AdditionalMetadata["reason"] != string(tc.p.Reason) {
				t.Errorf("got %+v", got)
			}
			if back := Decode(Encode(tc.p)); !back.Same(tc.p) {
				t.Errorf("round trip: %+v, want %+v", back, tc.p)
			}
		})
	}
}

func TestDecode(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want Problem
	}{
		{"none", "", Problem{}},
		{"an older hub's plain text", "savepoint failed: disk full", New(Unknown, "savepoint failed: disk full")},
		{"the Apache operator's exception", `{"type":"org.apache.flink.kubernetes.operator.exception.ReconciliationException","message":"Deployment failed","throwableList":[{"type":"java.lang.Exception","message":"x"}]}`, New(Unknown, "Deployment failed")},
		{"JSON without a message", `{"type":"x"}`, New(Unknown, `{"type":"x"}`)},
		{"the hub's own", Encode(New(JobFailed, "Job failed: boom")), New(JobFailed, "Job failed: boom")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Decode(tc.in); got != tc.want {
				t.Errorf("Decode(%q) = %+v, want %+v", tc.in, got, tc.want)
			}
		})
	}
}

func TestEncodeOfNoProblemIsEmpty(t *testing.T) {
	if got := Encode(Problem{}); got != "" {
		t.Errorf("Encode(none) = %q", got)
	}
}

func TestIsAndEventReason(t *testing.T) {
	p := New(CheckpointFailed, "checkpoint failed: x")
	if !p.Is(SavepointFailed, CheckpointFailed) || p.Is(SavepointFailed) || (Problem{}).Is(Unknown) {
		t.Error("Is")
	}
	if p.EventReason() != "CheckpointError" || New(JobFailed, "").EventReason() != "JobFailed" {
		t.Errorf("event reasons %q %q", p.EventReason(), New(JobFailed, "").EventReason())
	}
	if got := (Problem{Reason: JobManagerDeploymentFailed, Message: "m", Event: "CrashLoopBackOff"}).EventReason(); got != "CrashLoopBackOff" {
		t.Errorf("explicit event reason %q", got)
	}
}
