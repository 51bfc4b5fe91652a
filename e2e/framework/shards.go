package framework

import (
	"context"

	coordinationv1 "k8s.io/api/coordination/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flink-hub/flink-hub/internal/sharding/shardlease"
)

// ShardLeases reads the shard fence Leases the hub replicas keep in
// namespace ns, by shard.
func ShardLeases(ctx context.Context, c client.Client, ns string) (map[int]coordinationv1.Lease, error) {
	var list coordinationv1.LeaseList
	if err := c.List(ctx, &list, client.InNamespace(ns), client.MatchingLabels{shardlease.RoleLabel: shardlease.RoleShard}); err != nil {
		return nil, err
	}
	out := map[int]coordinationv1.Lease{}
	for _, l := range list.Items {
		if k, ok := shardlease.ParseShardLeaseName(l.Name); ok {
			out[k] = l
		}
	}
	return out, nil
}
