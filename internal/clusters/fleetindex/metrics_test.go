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

// byNamespace places a key with the owner of its namespace.
type byNamespace map[string]string

func (p byNamespace) Place(keys []Key) []Placement {
	out := make([]Placement, len(keys))
	for i, k := range keys {
		out[i].Owner = p[k.Namespace]
	}
	return out
}

// TestUpstreamMetricsCountWhatTheReplicaOwns: the Apache operator's
// namespace metrics, under its names, count the rows this replica owns
// (rows of namespace b belong to another replica), so that sums over
// replicas count each resource once.
func TestUpstreamMetricsCountWhatTheReplicaOwns(t *testing.T) {
	ix := New(WithPlacer(byNamespace{"a": "hub-0", "b": "hub-1"}))
	ServeMetrics(ix)
	ServeUpstreamMetricsAs("hub-0")
	defer ServeMetrics(nil)
	for _, d := range []Deployment{
		{Cluster: "member-1", Namespace: "a", Name: "x", LifecycleState: "STABLE", JobManagerStatus: "READY", CPU: 1.5, Memory: 2 << 30, RunningFlinkVersion: "1.20.1"},
		{Cluster: "member-1", Namespace: "a", Name: "y", LifecycleState: "UPGRADING", JobManagerStatus: "DEPLOYING", CPU: 2, Memory: 1 << 30},
		{Cluster: "member-1", Namespace: "b", Name: "z", LifecycleState: "STABLE", JobManagerStatus: "READY", CPU: 8, Memory: 8 << 30},
		{Kind: "FlinkSessionJob", Cluster: "member-1", Namespace: "a", Name: "j", LifecycleState: "STABLE"},
	} {
		ix.UpsertDeployment(d)
	}
	want := `
# HELP flink_k8soperator_namespace_Count Managed resources per namespace (the Apache operator's name).
# TYPE flink_k8soperator_namespace_Count gauge
flink_k8soperator_namespace_Count{cluster="member-1",resourcens="a",resourcetype="FlinkDeployment"} 2
flink_k8soperator_namespace_Count{cluster="member-1",resourcens="a",resourcetype="FlinkSessionJob"} 1
# HELP flink_k8soperator_namespace_Lifecycle_State_STABLE_Count Managed resources per namespace in lifecycle state STABLE (the Apache operator's name).
# TYPE flink_k8soperator_namespace_Lifecycle_State_STABLE_Count gauge
flink_k8soperator_namespace_Lifecycle_State_STABLE_Count{cluster="member-1",resourcens="a",resourcetype="FlinkDeployment"} 1
flink_k8soperator_namespace_Lifecycle_State_STABLE_Count{cluster="member-1",resourcens="a",resourcetype="FlinkSessionJob"} 1
# HELP flink_k8soperator_namespace_JmDeploymentStatus_DEPLOYING_Count Managed FlinkDeployments per namespace whose JobManager deployment is DEPLOYING (the Apache operator's name).
# TYPE flink_k8soperator_namespace_JmDeploymentStatus_DEPLOYING_Count gauge
flink_k8soperator_namespace_JmDeploymentStatus_DEPLOYING_Count{cluster="member-1",resourcens="a",resourcetype="FlinkDeployment"} 1
# HELP flink_k8soperator_namespace_FlinkMinorVersion_Count Managed FlinkDeployments per namespace by Flink minor version (upstream names it FlinkMinorVersion.<version>.Count; the version is a label here).
# TYPE flink_k8soperator_namespace_FlinkMinorVersion_Count gauge
flink_k8soperator_namespace_FlinkMinorVersion_Count{cluster="member-1",resourcens="a",resourcetype="FlinkDeployment",version="1.20"} 1
flink_k8soperator_namespace_FlinkMinorVersion_Count{cluster="member-1",resourcens="a",resourcetype="FlinkDeployment",version="UNKNOWN"} 1
# HELP flink_k8soperator_namespace_ResourceUsage_Cpu CPU of the FlinkDeployments' clusters per namespace (the Apache operator's name).
# TYPE flink_k8soperator_namespace_ResourceUsage_Cpu gauge
flink_k8soperator_namespace_ResourceUsage_Cpu{cluster="member-1",resourcens="a",resourcetype="FlinkDeployment"} 3.5
# HELP flink_k8soperator_namespace_ResourceUsage_Memory Memory (bytes) of the FlinkDeployments' clusters per namespace (the Apache operator's name).
# TYPE flink_k8soperator_namespace_ResourceUsage_Memory gauge
flink_k8soperator_namespace_ResourceUsage_Memory{cluster="member-1",resourcens="a",resourcetype="FlinkDeployment"} 3.221225472e+09
`
	if err := testutil.GatherAndCompare(metrics.Registry, strings.NewReader(want), "flink_k8soperator_namespace_Count",
		"flink_k8soperator_namespace_Lifecycle_State_STABLE_Count", "flink_k8soperator_namespace_JmDeploymentStatus_DEPLOYING_Count",
		"flink_k8soperator_namespace_ResourceUsage_Cpu", "flink_k8soperator_namespace_ResourceUsage_Memory", "flink_k8soperator_namespace_FlinkMinorVersion_Count"); err != nil {
		t.Fatal(err)
	}
}

func TestSafeVersion(t *testing.T) {
	for in, want := range map[string]string{"": "UNKNOWN", "1.20.1": "1.20.1", "2.2-SNAPSHOT": "2.2-SNAPSHOT", "1.20\nevil": "MALFORMED", strings.Repeat("9", 40): "MALFORMED"} {
		if got := safeVersion(in); got != want {
			t.Errorf("safeVersion(%q) = %q, want %q", in, got, want)
		}
	}
	if got := minorVersion("MALFORMED"); got != "MALFORMED" {
		t.Errorf("minorVersion(MALFORMED) = %q", got)
	}
}
