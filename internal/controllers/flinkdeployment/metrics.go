package flinkdeployment

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// requestsWaiting counts, per member, the requests turned away by the
// worker share that wait for one of the member's reconciles to end.
var requestsWaiting = prometheus.NewGaugeVec(prometheus.GaugeOpts{
	Name: "flinkhub_member_requests_waiting",
	Help: "FlinkDeployment reconcile requests of a member waiting for a worker because the member holds its share of them (--member-worker-share).",
}, []string{"cluster"})

func init() {
	metrics.Registry.MustRegister(requestsWaiting)
}
