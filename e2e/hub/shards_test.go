package hub

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flink-hub/flink-hub/internal/sharding"
)

// TestReplicaWithAnotherShardCountLeavesTheFleetRunning: a rolling update
// that changes --shards starts a replica that disagrees with the fleet. It
// exits at once, saying what to do, and the running replicas go on owning
// every shard: a FlinkDeployment created meanwhile runs.
func TestReplicaWithAnotherShardCountLeavesTheFleetRunning(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	p, err := startReplica("hub-more-shards", "--shards", strconv.Itoa(2*sharding.DefaultShards))
	if err != nil {
		t.Fatal(err)
	}
	killed[p.Name] = true // it ends by itself
	if err := p.Wait(time.Minute); err == nil {
		t.Fatal("a replica with another shard count exited with status 0")
	}
	log, err := os.ReadFile(p.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{sharding.ErrShardCount.Error(), "--shards=" + strconv.Itoa(2*sharding.DefaultShards), "delete that Lease"} {
		if !strings.Contains(string(log), want) {
			t.Errorf("the replica's log does not say %q:\n%s", want, log)
		}
	}

	m := fleet.Members[1]
	createStable(t, ctx, m, fromExample(t, ctx, m, "basic/basic-example", "shards", "after-the-bad-replica"))
}
