package fleetindex

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

func TestMetricsCountTheIndex(t *testing.T) {
	ix := New()
	ServeMetrics(ix)
	defer ServeMetrics(nil)
	ix.UpsertCluster(Cluster{Name: "member-1", Ready: true})
	ix.UpsertCluster(Cluster{Name: "member-2", Ready: false})
	for _, d := range []Deployment{
		{Cluster: "member-1", Namespace: "a", Name: "x", LifecycleState: "STABLE"},
		{Cluster: "member-1", Namespace: "a", Name: "y", LifecycleState: "STABLE"},
		{Cluster: "member-2", Namespace: "a", Name: "x", LifecycleState: "FAILED"},
	} {
		ix.UpsertDeployment(d)
	}
	want := `
# HELP flinkhub_flinkdeployments FlinkDeployments in the fleet index by member cluster and lifecycle state.
# TYPE flinkhub_flinkdeployments gauge
flinkhub_flinkdeployments{cluster="member-1",lifecycle_state="STABLE"} 2
flinkhub_flinkdeployments{cluster="member-2",lifecycle_state="FAILED"} 1
# HELP flinkhub_member_ready 1 when the member cluster is Ready, else 0.
# TYPE flinkhub_member_ready gauge
flinkhub_member_ready{cluster="member-1"} 1
flinkhub_member_ready{cluster="member-2"} 0
`
	if err := testutil.GatherAndCompare(metrics.Registry, strings.NewReader(want), "flinkhub_flinkdeployments", "flinkhub_member_ready"); err != nil {
		t.Fatal(err)
	}
}
