package fleetindex

import (
	"fmt"
	"strings"
	"sync/atomic"

	fleetv1 "github.com/flink-hub/flink-hub/apis/fleet/v1"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

var (
	deploymentsDesc = prometheus.NewDesc("flinkhub_flinkdeployments",
		"FlinkDeployments in the fleet index by member cluster and lifecycle state.",
		[]string{"cluster", "lifecycle_state"}, nil)
	memberReadyDesc = prometheus.NewDesc("flinkhub_member_ready",
		"1 when the member cluster is Ready, else 0.", []string{"cluster"}, nil)

	// served is the index the metrics describe: the hub's, once it runs.
	served atomic.Pointer[Index]
	// self is this replica's identity: the Apache operator's metrics
	// count the resources it owns, so that sums over replicas count each
	// once.
	self atomic.Pointer[string]
)

// The Apache operator's namespace-scope metrics, as its Prometheus reporter
// names them (flink_ + logical scope k8soperator.namespace + subgroups +
// name, dots made underscores), labelled with the resource's namespace and
// type as upstream, and its member cluster.
var (
	upstreamLabels   = []string{"cluster", "resourcens", "resourcetype"}
	upstreamCount    = prometheus.NewDesc("flink_k8soperator_namespace_Count", "Managed resources per namespace (the Apache operator's name).", upstreamLabels, nil)
	upstreamCPU      = prometheus.NewDesc("flink_k8soperator_namespace_ResourceUsage_Cpu", "CPU of the FlinkDeployments' clusters per namespace (the Apache operator's name).", upstreamLabels, nil)
	upstreamMemory   = prometheus.NewDesc("flink_k8soperator_namespace_ResourceUsage_Memory", "Memory (bytes) of the FlinkDeployments' clusters per namespace (the Apache operator's name).", upstreamLabels, nil)
	lifecycleStates  = []string{"CREATED", "SUSPENDED", "UPGRADING", "DEPLOYED", "STABLE", "ROLLING_BACK", "ROLLED_BACK", "FAILED", "DELETING", "DELETED"}
	jobManagerStates = []string{"READY", "DEPLOYED_NOT_READY", "DEPLOYING", "MISSING", "ERROR"}
	upstreamStates   = stateDescs("Lifecycle_State", lifecycleStates, "Managed resources per namespace in lifecycle state %s (the Apache operator's name).")
	upstreamJMStates = stateDescs("JmDeploymentStatus", jobManagerStates, "Managed FlinkDeployments per namespace whose JobManager deployment is %s (the Apache operator's name).")
	// The version counts name the version in the metric, as upstream's
	// reporter does (dots made underscores).
	upstreamVersionLabels = []string{"cluster", "resourcens", "resourcetype", "version"}
	upstreamVersion       = prometheus.NewDesc("flink_k8soperator_namespace_FlinkVersion_Count", "Managed FlinkDeployments per namespace by the Flink version their JobManager reports (upstream names it FlinkVersion.<version>.Count; the version is a label here).", upstreamVersionLabels, nil)
	upstreamMinorVersion  = prometheus.NewDesc("flink_k8soperator_namespace_FlinkMinorVersion_Count", "Managed FlinkDeployments per namespace by Flink minor version (upstream names it FlinkMinorVersion.<version>.Count; the version is a label here).", upstreamVersionLabels, nil)
)

// stateDescs are the count metrics of each state, named
// flink_k8soperator_namespace_<group>_<state>_Count.
func stateDescs(group string, states []string, help string) map[string]*prometheus.Desc {
	out := map[string]*prometheus.Desc{}
	for _, st := range states {
		out[st] = prometheus.NewDesc("flink_k8soperator_namespace_"+group+"_"+st+"_Count", fmt.Sprintf(help, st), upstreamLabels, nil)
	}
	return out
}

// ServeUpstreamMetricsAs makes the Apache operator's metrics count the
// index rows that replica owns.
func ServeUpstreamMetricsAs(replica string) { self.Store(&replica) }

func init() { metrics.Registry.MustRegister(collector{}) }

// ServeMetrics makes ix the index whose counts are exported on
// controller-runtime's metrics registry.
func ServeMetrics(ix *Index) { served.Store(ix) }

// collector reads the counts at scrape time, so the metrics never lag the
// index and cost nothing between scrapes.
type collector struct{}

func (collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- deploymentsDesc
	ch <- memberReadyDesc
	for _, d := range []*prometheus.Desc{upstreamCount, upstreamCPU, upstreamMemory, upstreamVersion, upstreamMinorVersion} {
		ch <- d
	}
	for _, m := range []map[string]*prometheus.Desc{upstreamStates, upstreamJMStates} {
		for _, d := range m {
			ch <- d
		}
	}
}

func (collector) Collect(ch chan<- prometheus.Metric) {
	ix := served.Load()
	if ix == nil {
		return
	}
	type key struct{ cluster, state string }
	counts := map[key]int{}
	for _, d := range ix.Deployments(Filter{}) {
		counts[key{d.Cluster, d.LifecycleState}]++
	}
	for k, n := range counts {
		ch <- prometheus.MustNewConstMetric(deploymentsDesc, prometheus.GaugeValue, float64(n), k.cluster, k.state)
	}
	if replica := self.Load(); replica != nil {
		collectUpstream(ch, ix.Deployments(Filter{Owner: *replica}))
		collectUpstream(ch, ix.Deployments(Filter{Owner: *replica, Kind: fleetv1.KindFlinkSessionJob}))
	}
	for _, c := range ix.Clusters() {
		ready := 0.0
		if c.Ready {
			ready = 1
		}
		ch <- prometheus.MustNewConstMetric(memberReadyDesc, prometheus.GaugeValue, ready, c.Name)
	}
}

// collectUpstream sends the Apache operator's namespace metrics of rows,
// all of one kind.
func collectUpstream(ch chan<- prometheus.Metric, rows []Deployment) {
	type ns struct{ cluster, namespace, kind string }
	type sums struct {
		count, cpu       float64
		memory           float64
		states, jmStates map[string]float64
		versions, minors map[string]float64
	}
	by := map[ns]*sums{}
	for _, d := range rows {
		k := ns{d.Cluster, d.Namespace, d.Kind}
		s := by[k]
		if s == nil {
			s = &sums{states: map[string]float64{}, jmStates: map[string]float64{}, versions: map[string]float64{}, minors: map[string]float64{}}
			by[k] = s
		}
		s.count++
		s.cpu += d.CPU
		s.memory += float64(d.Memory)
		s.states[d.LifecycleState]++
		if d.JobManagerStatus != "" {
			s.jmStates[d.JobManagerStatus]++
		}
		if d.Kind == fleetv1.KindFlinkDeployment {
			version := safeVersion(d.RunningFlinkVersion)
			s.versions[version]++
			s.minors[minorVersion(version)]++
		}
	}
	for k, s := range by {
		labels := []string{k.cluster, k.namespace, k.kind}
		ch <- prometheus.MustNewConstMetric(upstreamCount, prometheus.GaugeValue, s.count, labels...)
		for st, desc := range upstreamStates {
			ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, s.states[st], labels...)
		}
		if k.kind != fleetv1.KindFlinkDeployment {
			continue
		}
		ch <- prometheus.MustNewConstMetric(upstreamCPU, prometheus.GaugeValue, s.cpu, labels...)
		ch <- prometheus.MustNewConstMetric(upstreamMemory, prometheus.GaugeValue, s.memory, labels...)
		for st, desc := range upstreamJMStates {
			ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, s.jmStates[st], labels...)
		}
		for v, n := range s.versions {
			ch <- prometheus.MustNewConstMetric(upstreamVersion, prometheus.GaugeValue, n, append(labels, v)...)
		}
		for v, n := range s.minors {
			ch <- prometheus.MustNewConstMetric(upstreamMinorVersion, prometheus.GaugeValue, n, append(labels, v)...)
		}
	}
}

// safeVersion is a JobManager's version text fit for a label: UNKNOWN
// when empty, MALFORMED when long or not made of letters, digits, dots and
// dashes (the JobManager's answer is tenant text).
func safeVersion(v string) string {
	if v == "" {
		return "UNKNOWN"
	}
	if len(v) > 32 || strings.Trim(v, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-") != "" {
		return "MALFORMED"
	}
	return v
}

// minorVersion is major.minor of a version as upstream counts it: UNKNOWN
// stays, a version without a minor part is MALFORMED.
func minorVersion(v string) string {
	if v == "UNKNOWN" || v == "MALFORMED" {
		return v
	}
	parts := strings.Split(v, ".")
	if len(parts) < 2 {
		return "MALFORMED"
	}
	return parts[0] + "." + parts[1]
}
