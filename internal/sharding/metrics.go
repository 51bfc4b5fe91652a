package sharding

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

var (
	shardsOwned = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "flinkhub_sharding_shards_owned",
		Help: "Shards this replica may reconcile now: fence held, inside the renew deadline, not draining.",
	})
	fencesHeld = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "flinkhub_sharding_fences_held",
		Help: "Shard fence Leases this replica holds, draining ones included.",
	})
	handoffs = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "flinkhub_sharding_handoffs_total",
		Help: "Shards this replica drained and released to another replica.",
	})
	successorTimeouts = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "flinkhub_sharding_successor_timeouts_total",
		Help: "Shards this replica handed off after the handoff wait because the replica assigned them never announced them ready (successor handshake).",
	})
	fenceLosses = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "flinkhub_sharding_fence_losses_total",
		Help: "Fences this replica lost without a handoff (renew deadline passed or another holder).",
	})
	unownedSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "flinkhub_sharding_shard_unowned_seconds",
		Help:    "Time a shard had no owner, measured by the acquiring replica on its own clock from the last change it saw on the fence.",
		Buckets: []float64{0.1, 0.25, 0.5, 1, 2, 5, 10, 15, 20, 30, 60},
	})
	shardUnowned = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "flinkhub_sharding_shard_last_unowned_seconds",
		Help: "Per shard, how long it last had no owner before this replica acquired it (same clock rule as the histogram).",
	}, []string{"shard"})
	acquireFailing = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "flinkhub_sharding_acquire_failing_shards",
		Help: "Shards assigned to this replica whose every acquisition failed for longer than the renew deadline (they have no owner; the log says why).",
	})
	configMismatch = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "flinkhub_sharding_config_mismatch",
		Help: "1 while a live peer advertises a different shard count; this replica then owns nothing.",
	})
)

func init() {
	metrics.Registry.MustRegister(shardsOwned, fencesHeld, handoffs, successorTimeouts, fenceLosses, unownedSeconds, shardUnowned, acquireFailing, configMismatch)
}
