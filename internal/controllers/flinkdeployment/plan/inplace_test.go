package plan

import (
	"strings"
	"testing"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/flinkconf"
)

const (
	vertexA = "bc764cd8ddf7a0cff126f51c16239658"
	vertexB = "0a448493b4782967b150582570326227"
)

// adaptiveApp is a native application on Flink version with the adaptive
// scheduler, the parallelism overrides given (none when "") and the
// extra configuration members.
func adaptiveApp(version v1beta1.FlinkVersion, overrides, extra string) *v1beta1.FlinkDeploymentSpec {
	conf := `{"jobmanager.scheduler":"adaptive"` + extra
	if overrides != "" {
		conf += `,"` + flinkconf.KeyParallelismOverrides + `":"` + overrides + `"`
	}
	s := app(v1beta1.UpgradeModeSavepoint, conf+`}`)
	s.FlinkVersion = version
	return s
}

// TestInPlaceScaling: a native job's parallelism overrides change is set
// in place when upstream's NativeFlinkService.scale would (Flink 1.18+, the
// adaptive scheduler, in-place scaling on, a job the JobManager can
// rescale, no override removed, the JobManager did not refuse), and is an
// upgrade, saying why, otherwise.
func TestInPlaceScaling(t *testing.T) {
	last := adaptiveApp("v1_20", vertexA+":2", "")
	scaled := adaptiveApp("v1_20", vertexA+":4,"+vertexB+":3", "")
	inPlace := Plan{Step: ScaleInPlace, SnapshotsFirst: true}
	cases := []struct {
		name       string
		spec, last *v1beta1.FlinkDeploymentSpec
		status     *v1beta1.FlinkDeploymentStatus
		refused    string
		want       Plan
	}{
		{"overrides changed", scaled, last, running(), "", inPlace},
		{"first overrides", adaptiveApp("v1_18", vertexA+":4", ""), adaptiveApp("v1_18", "", ""), running(), "", inPlace},
		{"job restarting", scaled, last, status(v1beta1.ReconciliationDeployed, v1beta1.JobManagerReady, v1beta1.JobRestarting), "", inPlace},
		{"unknown Flink version counts as newer", adaptiveApp("", vertexA+":4", ""), adaptiveApp("", vertexA+":2", ""), running(), "", inPlace},
		{"setting off", adaptiveApp("v1_20", vertexA+":4", `,"`+flinkconf.KeyInPlaceScaling+`":"false"`), last, running(), "",
			upgradeBecause(flinkconf.KeyInPlaceScaling + " is false")},
		{"Flink 1.17", adaptiveApp("v1_17", vertexA+":4", ""), adaptiveApp("v1_17", vertexA+":2", ""), running(), "",
			upgradeBecause("in-place scaling needs Flink 1.18 or later, the cluster runs 1.17")},
		{"default scheduler", app(v1beta1.UpgradeModeSavepoint, `{"`+flinkconf.KeyParallelismOverrides+`":"`+vertexA+`:4"}`),
			app(v1beta1.UpgradeModeSavepoint, `{"`+flinkconf.KeyParallelismOverrides+`":"`+vertexA+`:2"}`), running(), "",
			upgradeBecause("in-place scaling needs the adaptive scheduler (jobmanager.scheduler: adaptive)")},
		{"JobManager not ready", scaled, last, status(v1beta1.ReconciliationDeployed, v1beta1.JobManagerDeploying, v1beta1.JobReconciling), "",
			upgradeBecause("the JobManager is not ready")},
		{"job reconciling", scaled, last, status(v1beta1.ReconciliationDeployed, v1beta1.JobManagerReady, v1beta1.JobReconciling), "",
			upgradeBecause(`the job is "RECONCILING"`)},
		{"job failed", scaled, last, status(v1beta1.ReconciliationDeployed, v1beta1.JobManagerReady, v1beta1.JobFailed), "",
			upgradeBecause(`the job is "FAILED"`)},
		{"override removed", adaptiveApp("v1_20", vertexB+":3", ""), last, running(), "",
			upgradeBecause("the parallelism override of job vertex " + vertexA + " was removed")},
		{"every override removed", adaptiveApp("v1_20", "", ""), last, running(), "",
			upgradeBecause("the parallelism override of job vertex " + vertexA + " was removed")},
		{"rolled back", scaled, last, status(v1beta1.ReconciliationRolledBack, v1beta1.JobManagerReady, v1beta1.JobRunning), "",
			upgradeBecause("the cluster was rolled back: it runs the last stable spec, not the one changed")},
		{"JobManager refused", scaled, last, running(), "the JobManager refused the new resource requirements: 500",
			upgradeBecause("the JobManager refused the new resource requirements: 500")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Next(Input{Spec: tc.spec, Last: tc.last, Status: tc.status, JobManager: true, ScaleRefused: tc.refused, Now: now})
			if got != tc.want {
				t.Errorf("Next = %+v\nwant   %+v", got, tc.want)
			}
		})
	}
}

// upgradeBecause is the Begin of a parallelism overrides change that
// cannot be made in place, for why.
func upgradeBecause(why string) Plan {
	return Plan{Step: Begin, Why: "Spec changed (scale), not in place: " + why, SnapshotsFirst: true}
}

// TestOverrides: the overrides are read as Flink reads them (spaces
// around), and tenant text that is not Flink's, or that Flink would ignore
// or refuse, is refused.
func TestOverrides(t *testing.T) {
	got, err := Overrides(adaptiveApp("v1_20", " "+vertexA+" : 4 ,"+vertexB+":1", ""))
	if err != nil || len(got) != 2 || got[vertexA] != 4 || got[vertexB] != 1 {
		t.Errorf("overrides %v, %v", got, err)
	}
	for _, bad := range []string{"jobs/x:4", vertexA + ":-1", vertexA + ":99999", vertexA + ":four", "BC764CD8DDF7A0CFF126F51C16239658:4", vertexA + ":4," + vertexA + ":2"} {
		if _, err := Overrides(adaptiveApp("v1_20", bad, "")); err == nil || !strings.Contains(err.Error(), flinkconf.KeyParallelismOverrides) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
