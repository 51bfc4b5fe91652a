package fleetindex

import (
	"sync/atomic"

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
)

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
	for _, c := range ix.Clusters() {
		ready := 0.0
		if c.Ready {
			ready = 1
		}
		ch <- prometheus.MustNewConstMetric(memberReadyDesc, prometheus.GaugeValue, ready, c.Name)
	}
}
