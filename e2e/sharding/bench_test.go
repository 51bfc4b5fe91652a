package sharding

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkFailover runs three replica processes with the default timings
// and reports how long the shards of a replica stay without an owner after
// SIGKILL (failover) and after SIGTERM (handoff). Numbers, not asserts:
//
//	go test -run '^$' -bench Failover -benchtime 3x ./e2e/sharding/
func BenchmarkFailover(b *testing.B) {
	ctx := context.Background()
	createFlinkDeployments(b, ctx)
	dir := b.TempDir()
	kubeconfig := filepath.Join(dir, "hub.kubeconfig")
	if err := os.WriteFile(kubeconfig, fleet.Hub.Kubeconfig, 0o600); err != nil {
		b.Fatal(err)
	}
	var failover, handoff time.Duration
	for i := 0; i < b.N; i++ {
		ns := fmt.Sprintf("bench-%d-%d", time.Now().UnixNano()%1_000_000, i)
		registerMembers(b, ctx, ns)
		var rs []*replica
		for j := range 3 {
			rs = append(rs, startReplica(b, dir, kubeconfig, ns, fmt.Sprintf("bench-%d-replica-%d", i, j)))
		}
		f, _ := held(b, ctx, ns, rs, time.Minute)

		victim := rs[0]
		victim.kill(b)
		reowned(b, ctx, ns, shardsOf(f, victim.id), victim.id, 3*leaseDuration)
		failover += time.Since(victim.killed)

		f, _ = held(b, ctx, ns, rs[1:], time.Minute)
		leaver := rs[1]
		at := leaver.terminate(b)
		reowned(b, ctx, ns, shardsOf(f, leaver.id), leaver.id, leaseDuration)
		handoff += time.Since(at)
		leaver.exitedCleanly(b, renewDeadline)
		rs[2].terminate(b)
		rs[2].exitedCleanly(b, renewDeadline)
	}
	b.ReportMetric(failover.Seconds()/float64(b.N), "failover-s/op")
	b.ReportMetric(handoff.Seconds()/float64(b.N), "handoff-s/op")
	b.Logf("lease duration %v: SIGKILL failover %v, SIGTERM handoff %v (mean of %d)",
		leaseDuration, (failover / time.Duration(b.N)).Round(time.Millisecond), (handoff / time.Duration(b.N)).Round(time.Millisecond), b.N)
}
