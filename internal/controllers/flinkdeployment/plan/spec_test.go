package plan

import (
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/utils/ptr"

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

// TestChanged: equal specs are unchanged whether they encode alike (the
// fast path: nil against empty arguments) or only after the JSON round
// trip (a configuration's keys in another order); any difference is a
// change.
func TestChanged(t *testing.T) {
	base := func() *v1beta1.FlinkDeploymentSpec {
		return &v1beta1.FlinkDeploymentSpec{FlinkVersion: "v1_20", Image: "flink:1.20", ServiceAccount: ptr.To("flink"),
			FlinkConfiguration: &apiextensionsv1.JSON{Raw: []byte(`{"a":"1","b":"2"}`)},
			Job:                &v1beta1.JobSpec{JarURI: "local:///job.jar", Parallelism: 2}}
	}
	cases := []struct {
		name   string
		change func(*v1beta1.FlinkDeploymentSpec)
		want   bool
	}{
		{"same", func(*v1beta1.FlinkDeploymentSpec) {}, false},
		{"nil against empty args", func(s *v1beta1.FlinkDeploymentSpec) { s.Job.Args = []string{} }, false},
		{"configuration keys in another order", func(s *v1beta1.FlinkDeploymentSpec) {
			s.FlinkConfiguration = &apiextensionsv1.JSON{Raw: []byte(`{"b": "2", "a": "1"}`)}
		}, false},
		{"a configuration value", func(s *v1beta1.FlinkDeploymentSpec) {
			s.FlinkConfiguration = &apiextensionsv1.JSON{Raw: []byte(`{"a":"1","b":"3"}`)}
		}, true},
		{"parallelism", func(s *v1beta1.FlinkDeploymentSpec) { s.Job.Parallelism = 4 }, true},
		{"an arg", func(s *v1beta1.FlinkDeploymentSpec) { s.Job.Args = []string{"--b"} }, true},
		{"no job", func(s *v1beta1.FlinkDeploymentSpec) { s.Job = nil }, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			spec := base()
			c.change(spec)
			if got := Changed(spec, base()); got != c.want {
				t.Errorf("Changed = %v, want %v", got, c.want)
			}
			if got := Changed(base(), spec); got != c.want {
				t.Errorf("Changed, arguments swapped = %v, want %v", got, c.want)
			}
		})
	}
}
