// Package sharding spreads FlinkDeployments over the hub replicas with a
// sharded leader election.
//
// A key (cluster/namespace/name) belongs to one of S virtual shards forever
// (ShardOf). Every replica holds a peer Lease; shards are assigned to the live
// peers by rendezvous hashing with a load cap (Assign), and every shard has a
// fence Lease that its owner must hold, inside the renew deadline, to
// reconcile the shard's keys. The controller sees only the Gate interface.
package sharding
