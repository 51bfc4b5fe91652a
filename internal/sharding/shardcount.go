package sharding

import (
	"context"
	"errors"
	"fmt"
	"github.com/flink-hub/flink-hub/internal/sharding/shardlease"
	"strconv"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ShardCountLeaseName is the Lease that records the fleet's shard count S
// and member spread W, written by the first replica of the fleet. It carries no holder and no
// RoleLabel: it is a fact, not an election.
const ShardCountLeaseName = "flink-hub-sharding"

// ErrShardCount is returned by Run when this replica's shard count or
// member spread is not the fleet's.
var ErrShardCount = errors.New("shard count differs from the fleet's")

// checkShardCount records S for the fleet if nobody has, and returns
// ErrShardCount when the fleet's S is another. A replica with another S
// thus exits before it joins; its peers, which would otherwise all refuse
// to own shards while it runs, are not disturbed.
func (e *Elector) checkShardCount(ctx context.Context) error {
	leases := e.client.CoordinationV1().Leases(e.ns)
	l, err := leases.Get(ctx, ShardCountLeaseName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		l, err = leases.Create(ctx, &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{
			Name: ShardCountLeaseName, Annotations: map[string]string{shardlease.ShardsAnnotation: strconv.Itoa(e.opts.Shards), shardlease.SpreadAnnotation: strconv.Itoa(e.opts.Spread)},
		}}, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			l, err = leases.Get(ctx, ShardCountLeaseName, metav1.GetOptions{})
		}
	}
	if err != nil {
		return fmt.Errorf("fleet shard count (Lease %s/%s): %w", e.ns, ShardCountLeaseName, err)
	}
	if got := l.Annotations[shardlease.ShardsAnnotation]; got != strconv.Itoa(e.opts.Shards) {
		return fmt.Errorf("%w: the fleet runs with %q shards (Lease %s/%s, annotation %s), this replica with --shards=%d: "+
			"run every replica with the fleet's --shards; to change it, stop every replica, delete that Lease, and start them all with the new value",
			ErrShardCount, got, e.ns, ShardCountLeaseName, shardlease.ShardsAnnotation, e.opts.Shards)
	}
	spread := l.Annotations[shardlease.SpreadAnnotation]
	if spread == "" {
		spread = "0" // recorded before the member spread existed
	}
	if spread != strconv.Itoa(e.opts.Spread) {
		return fmt.Errorf("%w: the fleet runs with member spread %s (Lease %s/%s, annotation %s), this replica with --member-spread=%d: "+
			"run every replica with the fleet's --member-spread; to change it, stop every replica, delete that Lease, and start them all with the new value",
			ErrShardCount, spread, e.ns, ShardCountLeaseName, shardlease.SpreadAnnotation, e.opts.Spread)
	}
	return nil
}
