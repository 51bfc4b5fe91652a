package flinksessionjob

import (
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
)

func TestChanged(t *testing.T) {
	nonce := func(n int64) *int64 { return &n }
	base := func() *v1beta1.FlinkSessionJobSpec {
		return &v1beta1.FlinkSessionJobSpec{DeploymentName: "session", RestartNonce: nonce(5),
			Job: &v1beta1.JobSpec{JarURI: "https://a/job.jar", Parallelism: 2, State: v1beta1.JobStateRunning, SavepointRedeployNonce: nonce(5)}}
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
		// As upstream's spec diff: what only steers the operator restarts
		// nothing.
		{"the upgrade mode", func(s *v1beta1.FlinkSessionJobSpec) { s.Job.UpgradeMode = v1beta1.UpgradeModeLastState }, false},
		{"allowNonRestoredState", func(s *v1beta1.FlinkSessionJobSpec) { t := true; s.Job.AllowNonRestoredState = &t }, false},
		{"initialSavepointPath", func(s *v1beta1.FlinkSessionJobSpec) { s.Job.InitialSavepointPath = "file:///sp/1" }, false},
		{"an operator setting", func(s *v1beta1.FlinkSessionJobSpec) {
			s.FlinkConfiguration = &apiextensionsv1.JSON{Raw: []byte(`{"kubernetes.operator.periodic.savepoint.interval":"1h"}`)}
		}, false},
		{"an autoscaler setting", func(s *v1beta1.FlinkSessionJobSpec) {
			s.FlinkConfiguration = &apiextensionsv1.JSON{Raw: []byte(`{"job.autoscaler.enabled":"true"}`)}
		}, false},
		{"parallelism.default beside job.parallelism", func(s *v1beta1.FlinkSessionJobSpec) {
			s.FlinkConfiguration = &apiextensionsv1.JSON{Raw: []byte(`{"parallelism.default":"7"}`)}
		}, false},
		{"parallelism.default alone", func(s *v1beta1.FlinkSessionJobSpec) {
			s.Job.Parallelism, s.FlinkConfiguration = 0, &apiextensionsv1.JSON{Raw: []byte(`{"parallelism.default":"7"}`)}
		}, true},
		{"a Flink setting", func(s *v1beta1.FlinkSessionJobSpec) {
			s.FlinkConfiguration = &apiextensionsv1.JSON{Raw: []byte(`{"execution.checkpointing.interval":"10 s"}`)}
		}, true},
		{"savepointRedeployNonce restarts", func(s *v1beta1.FlinkSessionJobSpec) { s.Job.SavepointRedeployNonce = nonce(1) }, true},
		// As upstream's onNullIgnore: a nonce unset asks for nothing.
		{"restartNonce unset", func(s *v1beta1.FlinkSessionJobSpec) { s.RestartNonce = nil }, false},
		{"savepointRedeployNonce unset", func(s *v1beta1.FlinkSessionJobSpec) { s.Job.SavepointRedeployNonce = nil }, false},
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

// TestJarSource: a local jar is recognized whatever the case of its scheme
// (validation accepts LOCAL:///...; the controller once fetched it and
// reported a misleading error), and a fetched jar is uploaded under its
// path's base name, never its userinfo.
func TestJarSource(t *testing.T) {
	for _, tc := range []struct {
		uri, local, name string
	}{
		{"local:///opt/flink/usrlib/job.jar", "/opt/flink/usrlib/job.jar", ""},
		{"LOCAL:///opt/flink/usrlib/job.jar", "/opt/flink/usrlib/job.jar", ""},
		{"Local:///opt/job.jar", "/opt/job.jar", ""},
		{"https://artifacts.example/jars/job.jar?v=2", "", "job.jar"},
		{"https://deploy:hunter2@artifacts.example", "", "job.jar"},
		{"", "", ""},
	} {
		local, name, err := jarSource(tc.uri)
		if err != nil || strings.Join(local, ",") != tc.local || name != tc.name {
			t.Errorf("jarSource(%q) = %v, %q, %v; want [%s], %q", tc.uri, local, name, err, tc.local, tc.name)
		}
	}
	if _, _, err := jarSource("https://deploy:hunter2@artifacts.example:80a/job.jar"); err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("an unparsable jarURI: %v", err)
	}
}
