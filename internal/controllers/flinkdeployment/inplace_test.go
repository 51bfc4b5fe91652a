package flinkdeployment

import (
	"context"
	"maps"
	"strings"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/flinkrest"
)

// TestRescaled: as upstream's NativeFlinkService.scale, an override is the
// vertex's upper bound and lowers its lower bound only when above;
// vertices without one keep their bounds; requirements already as asked
// are no change; a removed override cannot be made in place; overrides of
// vertices the job lacks are left out of the update.
func TestRescaled(t *testing.T) {
	const a, b = vertexA, vertexB
	p := func(lower, upper int32) flinkrest.VertexParallelism {
		return flinkrest.VertexParallelism{LowerBound: lower, UpperBound: upper}
	}
	cases := []struct {
		name                string
		current             map[string]flinkrest.VertexParallelism
		overrides, previous map[string]int32
		want                map[string]flinkrest.VertexParallelism
		changed             bool
		why                 string
	}{
		{"scale up", map[string]flinkrest.VertexParallelism{a: p(1, 2), b: p(1, 2)}, map[string]int32{a: 4}, nil,
			map[string]flinkrest.VertexParallelism{a: p(1, 4), b: p(1, 2)}, true, ""},
		{"scale down below the lower bound", map[string]flinkrest.VertexParallelism{a: p(3, 4), b: p(1, 2)}, map[string]int32{a: 2}, map[string]int32{a: 4},
			map[string]flinkrest.VertexParallelism{a: p(2, 2), b: p(1, 2)}, true, ""},
		{"lower bound kept when below", map[string]flinkrest.VertexParallelism{a: p(2, 4)}, map[string]int32{a: 8}, map[string]int32{a: 4},
			map[string]flinkrest.VertexParallelism{a: p(2, 8)}, true, ""},
		{"already as asked", map[string]flinkrest.VertexParallelism{a: p(1, 4)}, map[string]int32{a: 4}, map[string]int32{a: 2},
			map[string]flinkrest.VertexParallelism{a: p(1, 4)}, false, ""},
		{"vertex id in upper case", map[string]flinkrest.VertexParallelism{"BC764CD8DDF7A0CFF126F51C16239658": p(1, 2)}, map[string]int32{a: 3}, nil,
			map[string]flinkrest.VertexParallelism{"BC764CD8DDF7A0CFF126F51C16239658": p(1, 3)}, true, ""},
		{"unknown vertex left out", map[string]flinkrest.VertexParallelism{a: p(1, 2)}, map[string]int32{b: 3}, nil,
			map[string]flinkrest.VertexParallelism{a: p(1, 2)}, false, ""},
		{"override removed", map[string]flinkrest.VertexParallelism{a: p(1, 4), b: p(1, 2)}, map[string]int32{b: 3}, map[string]int32{a: 4},
			nil, false, "the parallelism override of job vertex " + a + " was removed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, changed, why := rescaled(tc.current, tc.overrides, tc.previous)
			if !maps.Equal(got, tc.want) || changed != tc.changed || why != tc.why {
				t.Errorf("rescaled = %v, %v, %q; want %v, %v, %q", got, changed, why, tc.want, tc.changed, tc.why)
			}
		})
	}
	if got := unknownVertices(map[string]int32{b: 3, a: 2}, map[string]flinkrest.VertexParallelism{a: p(1, 2)}); len(got) != 1 || got[0] != b {
		t.Errorf("unknown vertices %v", got)
	}
	if got := listed([]string{"a", "b", "c"}, 2); got != "a, b and 1 more" {
		t.Errorf("listed %q", got)
	}
}

// TestInPlaceSteps: the ScaleInPlace step against a fake JobManager, as
// reconcileSpec runs it (steps_test.go): the requirements updated and
// the spec recorded as deployed, the job kept; nothing sent when they are
// already as asked; a JobManager's refusal an upgrade begun in the same
// reconcile; a reconcile stopped (its deadline, a shutdown) during the
// call neither an upgrade nor a record, the next one trying in place
// again.
func TestInPlaceSteps(t *testing.T) {
	for _, tc := range inPlaceStepCases() {
		t.Run(tc.name, func(t *testing.T) { runStepCase(t, tc) })
	}
}

// Two job vertex ids, as Flink writes them.
const vertexA, vertexB = "bc764cd8ddf7a0cff126f51c16239658", "0a448493b4782967b150582570326227"

// overridesSpec is a savepoint-mode spec run by the adaptive scheduler
// with the parallelism overrides o.
func overridesSpec(o string) *v1beta1.FlinkDeploymentSpec {
	return stepSpec(v1beta1.UpgradeModeSavepoint, strings.Replace(stepHAConf, "{", `{"jobmanager.scheduler":"adaptive","pipeline.jobvertex-parallelism-overrides":"`+o+`",`, 1))
}

func inPlaceStepCases() []stepCase {
	const a, b = vertexA, vertexB
	last, scaled := overridesSpec(a+":2"), overridesSpec(a+":4")
	p := func(lower, upper int32) flinkrest.VertexParallelism {
		return flinkrest.VertexParallelism{LowerBound: lower, UpperBound: upper}
	}
	var sent map[string]flinkrest.VertexParallelism
	stopped, stop := context.WithCancel(context.Background())
	stop()
	return []stepCase{
		{name: "rescaled in place and recorded", spec: scaled, last: last, status: runningJob, jobRuns: true,
			flink: fakeFlink{requirements: map[string]flinkrest.VertexParallelism{a: p(1, 2), b: p(1, 2)},
				onUpdate: func(reqs map[string]flinkrest.VertexParallelism) { sent = reqs }},
			wantCalls: []string{"ResourceRequirements", "UpdateResourceRequirements"},
			check: func(t *testing.T, got *v1beta1.FlinkDeployment, c client.Client) {
				want := map[string]flinkrest.VertexParallelism{a: p(1, 4), b: p(1, 2)}
				if !maps.Equal(sent, want) {
					t.Errorf("sent %v, want %v", sent, want)
				}
				checkRecordedInPlace(t, got, a+":4")
			}},
		{name: "already as asked: nothing sent, recorded", spec: scaled, last: last, status: runningJob, jobRuns: true,
			flink:     fakeFlink{requirements: map[string]flinkrest.VertexParallelism{a: p(1, 4), b: p(1, 2)}},
			wantCalls: []string{"ResourceRequirements"},
			check: func(t *testing.T, got *v1beta1.FlinkDeployment, c client.Client) {
				checkRecordedInPlace(t, got, a+":4")
			}},
		{name: "refused by the JobManager: the upgrade begins in the same reconcile", spec: scaled, last: last, status: runningJob, jobRuns: true,
			flink: fakeFlink{requirements: map[string]flinkrest.VertexParallelism{a: p(1, 2), b: p(1, 2)},
				updateErr: &flinkrest.Error{Kind: flinkrest.KindServerError, Op: "updateJobResourceRequirements", Message: "java.lang.IllegalStateException: rescale refused"}},
			wantErr: "waiting", wantCalls: []string{"ResourceRequirements", "UpdateResourceRequirements", "StopWithSavepoint"},
			check: func(t *testing.T, got *v1beta1.FlinkDeployment, c client.Client) {
				if got.Status.ReconciliationStatus.State != v1beta1.ReconciliationUpgrading {
					t.Errorf("reconciliation state %s, want an upgrade", got.Status.ReconciliationStatus.State)
				}
			}},
		{name: "the reconcile stopped during the call: no upgrade, nothing recorded", spec: scaled, last: last, status: runningJob, jobRuns: true,
			ctx: stopped, flink: fakeFlink{requirements: map[string]flinkrest.VertexParallelism{a: p(1, 2), b: p(1, 2)}},
			wantErr: "any", wantCalls: []string{"ResourceRequirements"},
			check: func(t *testing.T, got *v1beta1.FlinkDeployment, c client.Client) {
				st := got.Status
				if st.ReconciliationStatus.State != v1beta1.ReconciliationDeployed || st.JobStatus.SavepointInfo != nil ||
					!strings.Contains(st.ReconciliationStatus.LastReconciledSpec, a+":2") {
					t.Errorf("status %+v %+v: want the last spec as it was, no upgrade", st.ReconciliationStatus, st.JobStatus)
				}
			}},
	}
}

// checkRecordedInPlace checks that got's new spec (holding overrides) was
// recorded as deployed with the job kept, and nothing redeployed.
func checkRecordedInPlace(t *testing.T, got *v1beta1.FlinkDeployment, overrides string) {
	t.Helper()
	st := got.Status
	if st.ReconciliationStatus.State != v1beta1.ReconciliationDeployed || !strings.Contains(st.ReconciliationStatus.LastReconciledSpec, overrides) {
		t.Errorf("reconciliation %+v: want the new spec deployed", st.ReconciliationStatus)
	}
	if st.JobStatus.JobID != "0123456789abcdef0123456789abcdef" || st.JobStatus.SavepointInfo != nil || st.JobManagerDeploymentStatus != v1beta1.JobManagerReady {
		t.Errorf("job %+v, JobManager %s: want the same job, no savepoint", st.JobStatus, st.JobManagerDeploymentStatus)
	}
}
