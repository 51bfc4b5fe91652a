package sharding

import "context"

// Gate is all a controller needs to know about sharding. It never mentions
// Leases: a controller asks it about keys (cluster/namespace/name).
type Gate interface {
	// Owns reports whether this replica may reconcile key now. Use it at
	// enqueue time to drop events of keys other replicas own.
	Owns(key string) bool
	// Begin admits one reconcile of key. When ok is false the replica does
	// not own key now: drop the request without error (the owner enqueues
	// it). Otherwise reconcile with the returned context, which is cancelled
	// if ownership is lost, and call done with the reconcile's error when
	// it ends; a shard is handed off only after its admitted reconciles are
	// done. Until a reconcile of key since its shard was acquired ended
	// without error, rctx carries handoff.First: the previous owner's last
	// writes may not be in the cache.
	Begin(ctx context.Context, key string) (rctx context.Context, done func(err error), ok bool)
	// ShardOf is the shard of key.
	ShardOf(key string) int
	// OnAcquire registers fn, called with a shard every time this replica
	// starts owning it (first acquisition, takeover after a crash, or
	// regaining it after losing the hub). fn should enqueue every cached key
	// of that shard in every member cluster; it must not block.
	OnAcquire(fn func(shard int))
}
