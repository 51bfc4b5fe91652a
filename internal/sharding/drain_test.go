package sharding

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/flink-hub/flink-hub/internal/sharding/handoff"
)

// drainOpts give a drain long enough to look at an in-flight reconcile
// while its shard drains, before the drain timeout cancels it.
func drainOpts(s int) []Option {
	return []Option{WithShards(s), WithTimings(10*time.Second, 7*time.Second, testRetry), WithDrainTimeout(3 * time.Second)}
}

// holdsDraining reports whether e still holds the fence of shard, draining.
func holdsDraining(e *running, shard int) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	f := e.fences[shard]
	return f != nil && f.draining && e.stillHeldLocked(f, time.Now())
}

// cancelled returns nil once ctx is cancelled.
func cancelled(ctx context.Context) error {
	if ctx.Err() == nil {
		return errors.New("reconcile not cancelled yet")
	}
	return nil
}

// TestDrainingShardKeepsInflightWrites: a reconcile admitted before its
// shard started draining (a replica joined and is assigned it) may still
// write while this replica holds the fence (the drain exists to let it
// finish, and its Flink calls went out), and may not once the drain
// timeout cancelled it; the joiner takes the shard only after it ended.
func TestDrainingShardKeepsInflightWrites(t *testing.T) {
	ns := newNamespace(t)
	const s = 8
	a := start(t, hub.Config, ns, "old-owner", drainOpts(s)...)
	eventually(t, 10*time.Second, func() error { return exactlyOnce(s, true, a) })
	key := keyMovingToNewcomer(s)
	rctx, done, ok := a.Begin(context.Background(), key)
	if !ok {
		t.Fatal("Begin refused an owned key")
	}
	b := start(t, hub.Config, ns, "newcomer", drainOpts(s)...)
	eventually(t, 10*time.Second, func() error {
		if !holdsDraining(a, ShardOf(key, s)) {
			return fmt.Errorf("shard of %s not draining yet", key)
		}
		return nil
	})
	if err := handoff.CheckOwned(rctx); err != nil {
		t.Fatalf("a write of the in-flight reconcile of a draining shard still held: %v, want it to go out", err)
	}
	if a.Owns(key) {
		t.Fatal("a draining shard admits new reconciles")
	}
	eventually(t, 10*time.Second, func() error { return cancelled(rctx) })
	if err := handoff.CheckOwned(rctx); !errors.Is(err, handoff.ErrNotOwned) {
		t.Fatalf("a write after the drain timeout cancelled the reconcile: %v, want ErrNotOwned", err)
	}
	if b.Owns(key) {
		t.Fatal("newcomer owns the shard before the straggler finished")
	}
	done(nil)
	eventually(t, 10*time.Second, func() error {
		if !b.Owns(key) {
			return fmt.Errorf("newcomer does not own %s after the old owner finished", key)
		}
		return nil
	})
	if err := handoff.CheckOwned(rctx); err == nil {
		t.Fatal("a write of the old owner passes after the shard was released")
	}
}

// TestStoppingReplicaKeepsInflightWrites: during a graceful stop the
// in-flight reconciles may write while their fences are held, and not
// once the drain timeout cancelled them.
func TestStoppingReplicaKeepsInflightWrites(t *testing.T) {
	ns := newNamespace(t)
	e := start(t, hub.Config, ns, "leaving", drainOpts(4)...)
	eventually(t, 10*time.Second, func() error { return exactlyOnce(4, true, e) })
	key := keyInShard(t, e, 2)
	rctx, done, ok := e.Begin(context.Background(), key)
	if !ok {
		t.Fatal("Begin refused a key of an owned shard")
	}
	defer done(nil)
	e.cancel() // SIGTERM
	eventually(t, 5*time.Second, func() error {
		if e.Owns(key) {
			return errors.New("a stopping replica still admits reconciles")
		}
		return nil
	})
	if !holdsDraining(e, 2) {
		t.Fatal("the busy shard's fence was let go while its reconcile runs")
	}
	if err := handoff.CheckOwned(rctx); err != nil {
		t.Fatalf("a write of an in-flight reconcile during a graceful stop: %v, want it to go out", err)
	}
	eventually(t, 10*time.Second, func() error { return cancelled(rctx) })
	if err := handoff.CheckOwned(rctx); !errors.Is(err, handoff.ErrNotOwned) {
		t.Fatalf("a write after the drain timeout cancelled the reconcile: %v, want ErrNotOwned", err)
	}
}
