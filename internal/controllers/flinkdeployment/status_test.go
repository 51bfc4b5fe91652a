package flinkdeployment

import (
	"testing"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/controllers/flinkdeployment/plan"
)

func mustEncode(t *testing.T, spec v1beta1.FlinkDeploymentSpec) string {
	t.Helper()
	s, err := plan.EncodeSpec(&spec, true)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestLifecycleState(t *testing.T) {
	running := mustEncode(t, v1beta1.FlinkDeploymentSpec{Job: &v1beta1.JobSpec{State: v1beta1.JobStateRunning}})
	suspended := mustEncode(t, v1beta1.FlinkDeploymentSpec{Job: &v1beta1.JobSpec{State: v1beta1.JobStateSuspended}})
	cases := []struct {
		name string
		st   v1beta1.FlinkDeploymentStatus
		want v1beta1.ResourceLifecycleState
	}{
		{"never deployed", v1beta1.FlinkDeploymentStatus{}, v1beta1.LifecycleCreated},
		{"never deployed with an error", v1beta1.FlinkDeploymentStatus{Error: "bad"}, v1beta1.LifecycleFailed},
		{"deleting stays", v1beta1.FlinkDeploymentStatus{LifecycleState: v1beta1.LifecycleDeleting}, v1beta1.LifecycleDeleting},
		{"deployed", v1beta1.FlinkDeploymentStatus{ReconciliationStatus: v1beta1.ReconciliationStatus{LastReconciledSpec: running, State: v1beta1.ReconciliationDeployed}}, v1beta1.LifecycleDeployed},
		{"stable", v1beta1.FlinkDeploymentStatus{ReconciliationStatus: v1beta1.ReconciliationStatus{LastReconciledSpec: running, LastStableSpec: running, State: v1beta1.ReconciliationDeployed}}, v1beta1.LifecycleStable},
		{"upgrading", v1beta1.FlinkDeploymentStatus{ReconciliationStatus: v1beta1.ReconciliationStatus{LastReconciledSpec: running, State: v1beta1.ReconciliationUpgrading}}, v1beta1.LifecycleUpgrading},
		{"suspended", v1beta1.FlinkDeploymentStatus{ReconciliationStatus: v1beta1.ReconciliationStatus{LastReconciledSpec: suspended, LastStableSpec: suspended}}, v1beta1.LifecycleSuspended},
		{"job failed", v1beta1.FlinkDeploymentStatus{JobStatus: v1beta1.JobStatus{State: v1beta1.JobFailed}, ReconciliationStatus: v1beta1.ReconciliationStatus{LastReconciledSpec: running, LastStableSpec: running}}, v1beta1.LifecycleFailed},
		{"rolled back", v1beta1.FlinkDeploymentStatus{ReconciliationStatus: v1beta1.ReconciliationStatus{LastReconciledSpec: running, State: v1beta1.ReconciliationRolledBack}}, v1beta1.LifecycleRolledBack},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := lifecycleState(&tc.st, nil); got != tc.want {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
			// What a reconcile decoded already gives the same answer.
			last, _, err := plan.DecodeSpec(tc.st.ReconciliationStatus.LastReconciledSpec)
			if err != nil {
				t.Fatal(err)
			}
			if got := lifecycleState(&tc.st, last); got != tc.want {
				t.Fatalf("with the decoded spec: got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestSpecRoundTripsInUpstreamFormat(t *testing.T) {
	spec := v1beta1.FlinkDeploymentSpec{Image: "flink:2.2", Job: &v1beta1.JobSpec{JarURI: "local:///x.jar", Parallelism: 2}}
	s := mustEncode(t, spec)
	want := `{"spec":{"job":{"jarURI":"local:///x.jar","parallelism":2},"image":"flink:2.2"},"resource_metadata":{"apiVersion":"flink.apache.org/v1beta1","firstDeployment":true}}`
	if s != want {
		t.Fatalf("encoded\n%s\nwant\n%s", s, want)
	}
	got, meta, err := plan.DecodeSpec(s)
	if err != nil || meta == nil || !meta.FirstDeployment || got.Job.JarURI != "local:///x.jar" {
		t.Fatalf("decode: %+v %+v %v", got, meta, err)
	}
	if plan.Changed(&spec, got) {
		t.Fatal("a decoded spec must equal what was encoded")
	}
	changed := spec.DeepCopy()
	changed.Job.Parallelism = 3
	if !plan.Changed(changed, got) {
		t.Fatal("a parallelism change must count")
	}
	if _, _, err := plan.DecodeSpec("{not json"); err == nil {
		t.Fatal("garbage must not decode")
	}
}

func TestDecodedLastSpecIsTheCurrentOne(t *testing.T) {
	spec := &v1beta1.FlinkDeploymentSpec{Job: &v1beta1.JobSpec{State: v1beta1.JobStateSuspended}}
	recorded := mustEncode(t, *spec)
	cases := []struct {
		name     string
		lastSpec *v1beta1.FlinkDeploymentSpec
		of       string
		status   string
		want     *v1beta1.FlinkDeploymentSpec
	}{
		{"nothing decoded", nil, "", recorded, nil},
		{"decoded from the status as it is", spec, recorded, recorded, spec},
		{"the status moved on since", spec, recorded, mustEncode(t, v1beta1.FlinkDeploymentSpec{}), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fd := &v1beta1.FlinkDeployment{}
			fd.Status.ReconciliationStatus.LastReconciledSpec = tc.status
			s := &state{fd: fd, lastSpec: tc.lastSpec, lastSpecOf: tc.of}
			if got := s.decodedLastSpec(); got != tc.want {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}
