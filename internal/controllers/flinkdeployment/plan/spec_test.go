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
// trip (a configuration's keys in another order); any difference but the
// snapshot trigger nonces is a change.
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
		// The manual snapshot steps act on a new trigger nonce and record
		// it: it is no change to record.
		{"a savepoint trigger nonce", func(s *v1beta1.FlinkDeploymentSpec) { s.Job.SavepointTriggerNonce = ptr.To[int64](5) }, false},
		{"a checkpoint trigger nonce", func(s *v1beta1.FlinkDeploymentSpec) { s.Job.CheckpointTriggerNonce = ptr.To[int64](5) }, false},
		{"a trigger nonce beside parallelism", func(s *v1beta1.FlinkDeploymentSpec) {
			s.Job.SavepointTriggerNonce, s.Job.Parallelism = ptr.To[int64](5), 4
		}, true},
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

// TestWithHandledNonces: what is recorded of a spec keeps the last
// reconciled snapshot trigger nonces, leaves everything else and the spec
// itself alone.
func TestWithHandledNonces(t *testing.T) {
	spec := func(savepoint, checkpoint *int64, parallelism int32) *v1beta1.FlinkDeploymentSpec {
		return &v1beta1.FlinkDeploymentSpec{Job: &v1beta1.JobSpec{Parallelism: parallelism, SavepointTriggerNonce: savepoint, CheckpointTriggerNonce: checkpoint}}
	}
	cases := []struct {
		name       string
		spec, last *v1beta1.FlinkDeploymentSpec
		want       *v1beta1.FlinkDeploymentSpec
	}{
		{"first deployment", spec(ptr.To[int64](1), nil, 2), nil, spec(ptr.To[int64](1), nil, 2)},
		{"new nonces stay pending", spec(ptr.To[int64](2), ptr.To[int64](3), 4), spec(ptr.To[int64](1), nil, 2), spec(ptr.To[int64](1), nil, 4)},
		{"an unset nonce keeps the handled one", spec(nil, nil, 2), spec(ptr.To[int64](1), ptr.To[int64](1), 2), spec(ptr.To[int64](1), ptr.To[int64](1), 2)},
		{"no job", &v1beta1.FlinkDeploymentSpec{Image: "a"}, spec(ptr.To[int64](1), nil, 2), &v1beta1.FlinkDeploymentSpec{Image: "a"}},
		{"last without a job", spec(ptr.To[int64](2), nil, 2), &v1beta1.FlinkDeploymentSpec{Image: "a"}, spec(ptr.To[int64](2), nil, 2)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := c.spec.DeepCopy()
			got := WithHandledNonces(c.spec, c.last)
			if Changed(got, c.want) || !equalNonces(got, c.want) {
				t.Errorf("recorded %+v, want %+v", got.Job, c.want.Job)
			}
			if Changed(c.spec, before) || !equalNonces(c.spec, before) {
				t.Errorf("the spec itself was changed: %+v, was %+v", c.spec.Job, before.Job)
			}
		})
	}
}

// equalNonces reports specs with the same snapshot trigger nonces (which
// Changed does not compare).
func equalNonces(a, b *v1beta1.FlinkDeploymentSpec) bool {
	if a.Job == nil || b.Job == nil {
		return a.Job == b.Job
	}
	return v1beta1.EqualNonce(a.Job.SavepointTriggerNonce, b.Job.SavepointTriggerNonce) && v1beta1.EqualNonce(a.Job.CheckpointTriggerNonce, b.Job.CheckpointTriggerNonce)
}
