package sharding

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/flink-hub/flink-hub/e2e/framework"
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

// electionWindow is how long BenchmarkElectionCPU measures a settled
// election at least: until every fence was renewed after it.
const electionWindow = 20 * time.Second

// BenchmarkElectionCPU runs three replica processes with the default
// timings and no member cluster, and reports the CPU each uses per second
// once every shard is held as assigned: what keeping the election costs a
// replica (renewing its fences and peer Lease, watching every Lease).
//
//	go test -run '^$' -bench ElectionCPU -benchtime 1x ./e2e/sharding/
func BenchmarkElectionCPU(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	kubeconfig := filepath.Join(dir, "hub.kubeconfig")
	if err := os.WriteFile(kubeconfig, fleet.Hub.Kubeconfig, 0o600); err != nil {
		b.Fatal(err)
	}
	var perReplica float64
	for i := 0; i < b.N; i++ {
		ns := fmt.Sprintf("election-%d-%d", time.Now().UnixNano()%1_000_000, i)
		if err := fleet.Hub.CreateNamespace(ctx, ns); err != nil {
			b.Fatal(err)
		}
		var rs []*replica
		for j := range 3 {
			rs = append(rs, startReplica(b, dir, kubeconfig, ns, fmt.Sprintf("%s-replica-%d", ns, j)))
		}
		held(b, ctx, ns, rs, time.Minute)
		before := make([]float64, len(rs))
		for j, r := range rs {
			before[j] = cpuOf(b, r)
		}
		start := time.Now()
		renewedSince(b, ctx, ns, start.Add(electionWindow))
		window := time.Since(start).Seconds()
		for j, r := range rs {
			perReplica += (cpuOf(b, r) - before[j]) / window / float64(len(rs))
		}
		for _, r := range rs {
			r.terminate(b)
			r.exitedCleanly(b, renewDeadline)
		}
	}
	b.ReportMetric(1000*perReplica/float64(b.N), "cpu-ms/s/replica")
}

// renewedSince waits until every shard fence of ns was last renewed at or
// after at: the election ran the whole window, every holder renewing.
func renewedSince(b *testing.B, ctx context.Context, ns string, at time.Time) {
	b.Helper()
	eventually(b, electionWindow+time.Minute, func() error {
		leases, err := framework.ShardLeases(ctx, fleet.Hub.Client, ns)
		if err != nil {
			return err
		}
		for k, l := range leases {
			if l.Spec.RenewTime == nil || l.Spec.RenewTime.Time.Before(at) {
				return fmt.Errorf("shard %d last renewed %v, before %v", k, l.Spec.RenewTime, at)
			}
		}
		if len(leases) != shards {
			return fmt.Errorf("%d shard Leases, want %d", len(leases), shards)
		}
		return nil
	})
}

// cpuOf is the CPU seconds a running replica used so far.
func cpuOf(b *testing.B, r *replica) float64 {
	b.Helper()
	s, err := framework.CPUSeconds(r.cmd.Process.Pid)
	if err != nil {
		b.Fatal(err)
	}
	return s
}
