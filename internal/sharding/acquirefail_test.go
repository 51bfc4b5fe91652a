package sharding

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flink-hub/flink-hub/internal/sharding/shardlease"
)

// TestPersistentAcquireFailureIsReported: a shard whose fence cannot be
// created (a Lease of its name without the role label: every Create
// fails) has no owner; the replica says so at default verbosity once the
// shard failed for a renew deadline, once per renew deadline (not every
// retry period), and flinkhub_sharding_acquire_failing_shards counts it.
func TestPersistentAcquireFailureIsReported(t *testing.T) {
	ns := newNamespace(t)
	cs := clientFor(t, hub.Config)
	unlabelled := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: shardlease.ShardLeaseName(0), Namespace: ns}}
	if _, err := cs.CoordinationV1().Leases(ns).Create(context.Background(), unlabelled, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var reports []time.Time
	log := funcr.New(func(_, args string) {
		if strings.Contains(args, "the shard has no owner") && strings.Contains(args, `"shard"=0`) && strings.Contains(args, shardlease.RoleLabel) {
			mu.Lock()
			reports = append(reports, time.Now())
			mu.Unlock()
		}
	}, funcr.Options{})
	e := start(t, hub.Config, ns, "a", WithShards(2), WithLogger(log))
	eventually(t, 10*time.Second, func() error {
		mu.Lock()
		defer mu.Unlock()
		if len(reports) < 2 {
			return fmt.Errorf("%d default-level reports of shard 0's failing acquisition, want 2", len(reports))
		}
		if got := gaugeValue(t, acquireFailing); got != 1 {
			return fmt.Errorf("flinkhub_sharding_acquire_failing_shards = %v, want 1", got)
		}
		return nil
	})
	mu.Lock()
	apart := reports[1].Sub(reports[0])
	mu.Unlock()
	if apart < testRenew {
		t.Errorf("reported again %v later, want once per renew deadline (%v)", apart, testRenew)
	}
	if got := e.OwnedShards(); len(got) != 1 || got[0] != 1 {
		t.Errorf("owns %v, want shard 1 only", got)
	}
}
