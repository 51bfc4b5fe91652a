package sharding

import (
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// written is what metric m reports now.
func written(t *testing.T, m prometheus.Metric) *dto.Metric {
	t.Helper()
	out := &dto.Metric{}
	if err := m.Write(out); err != nil {
		t.Fatal(err)
	}
	return out
}

func gaugeValue(t *testing.T, g prometheus.Gauge) float64 {
	t.Helper()
	return written(t, g).GetGauge().GetValue()
}

func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	return written(t, c).GetCounter().GetValue()
}

func TestMetricsOnControllerRuntimeRegistry(t *testing.T) {
	ns := newNamespace(t)
	handoffsBefore := counterValue(t, handoffs)
	e := start(t, hub.Config, ns, "metered", WithShards(4))
	eventually(t, 10*time.Second, func() error { return exactlyOnce(4, true, e) })
	eventually(t, 5*time.Second, func() error {
		if got := gaugeValue(t, shardsOwned); got != 4 {
			return fmt.Errorf("flinkhub_sharding_shards_owned = %v, want 4", got)
		}
		if got := gaugeValue(t, fencesHeld); got != 4 {
			return fmt.Errorf("flinkhub_sharding_fences_held = %v, want 4", got)
		}
		return nil
	})
	if err := e.stop(); err != nil {
		t.Fatal(err)
	}
	if got := counterValue(t, handoffs) - handoffsBefore; got != 4 {
		t.Errorf("flinkhub_sharding_handoffs_total grew by %v on a graceful stop, want 4", got)
	}
	if got := gaugeValue(t, shardsOwned); got != 0 {
		t.Errorf("flinkhub_sharding_shards_owned = %v after stop, want 0", got)
	}
	families, err := metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range families {
		names[f.GetName()] = true
	}
	for _, want := range []string{
		"flinkhub_sharding_shards_owned", "flinkhub_sharding_fences_held", "flinkhub_sharding_handoffs_total",
		"flinkhub_sharding_fence_losses_total", "flinkhub_sharding_shard_unowned_seconds", "flinkhub_sharding_config_mismatch",
		"flinkhub_sharding_successor_timeouts_total", "flinkhub_sharding_acquire_failing_shards",
	} {
		if !names[want] {
			t.Errorf("%s is not on controller-runtime's metrics registry", want)
		}
	}
}

func histogramCount(t *testing.T, h prometheus.Histogram) uint64 {
	t.Helper()
	return written(t, h).GetHistogram().GetSampleCount()
}
