// Package sharding spreads FlinkDeployments over the hub replicas with a
// sharded leader election.
//
// A key (cluster/namespace/name) belongs to one of S virtual shards forever
// (ShardOf). Every replica holds a peer Lease (flink-hub-peer-<id>, carrying
// S and a weight); shards are assigned to the live peers by rendezvous
// hashing with a load cap of ceil(1.25*S/N) (Assign), and every shard has a
// fence Lease (flink-hub-shard-<k>) that its owner must hold to reconcile
// the shard's keys. The controller sees only the Gate interface.
//
// Safety rests on two clocks never being compared:
//
//   - the holder may reconcile until the start of its last successful
//     renewal + RenewDeadline, on its own clock;
//   - any other replica may take a fence only after it has seen no change
//     to it for LeaseDuration, on its own clock, and then only with an
//     optimistic-concurrency write.
//
// Since RenewDeadline + RetryPeriod < LeaseDuration, the holder stops (and
// cancels its reconciles) before anyone else may start. A replica looks
// again every RetryPeriod and also at the moment the next Lease another
// replica holds would expire on its clock, so a dead replica's shards are
// taken when its Leases expire, not up to a retry period later. The
// assignment alone may read another clock: a peer Lease already lapsed by
// its own renewTime when first seen is left out of it (livePeers). A graceful handoff
// is faster: the old owner stops admitting keys, waits for its in-flight
// reconciles (bounded by DrainTimeout), then clears the holder, and the new
// owner takes the free fence at once and enqueues the shard's cached keys
// (Gate.OnAcquire). On shutdown every fence is released and the peer Lease
// deleted, so a rolling update moves shards in about a second.
package sharding
