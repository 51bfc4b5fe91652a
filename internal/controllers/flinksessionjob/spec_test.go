package flinksessionjob

import (
	"testing"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
)

func TestChanged(t *testing.T) {
	nonce := func(n int64) *int64 { return &n }
	base := func() *v1beta1.FlinkSessionJobSpec {
		return &v1beta1.FlinkSessionJobSpec{DeploymentName: "session", Job: &v1beta1.JobSpec{JarURI: "https://a/job.jar", Parallelism: 2, State: v1beta1.JobStateRunning}}
	}
	for _, tc := range []struct {
		name   string
		change func(*v1beta1.FlinkSessionJobSpec)
		want   bool
	}{
		{"nothing", func(*v1beta1.FlinkSessionJobSpec) {}, false},
		{"suspend is not an upgrade", func(s *v1beta1.FlinkSessionJobSpec) { s.Job.State = v1beta1.JobStateSuspended }, false},
		{"a savepoint nonce takes a savepoint, no restart", func(s *v1beta1.FlinkSessionJobSpec) { s.Job.SavepointTriggerNonce = nonce(1) }, false},
		{"a checkpoint nonce takes a checkpoint, no restart", func(s *v1beta1.FlinkSessionJobSpec) { s.Job.CheckpointTriggerNonce = nonce(1) }, false},
		{"restartNonce restarts", func(s *v1beta1.FlinkSessionJobSpec) { s.RestartNonce = nonce(1) }, true},
		{"parallelism", func(s *v1beta1.FlinkSessionJobSpec) { s.Job.Parallelism = 3 }, true},
		{"another jar", func(s *v1beta1.FlinkSessionJobSpec) { s.Job.JarURI = "local:///opt/flink/usrlib/job.jar" }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := base()
			tc.change(spec)
			if got := changed(spec, base()); got != tc.want {
				t.Errorf("changed = %v, want %v", got, tc.want)
			}
		})
	}
}
