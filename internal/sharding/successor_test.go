package sharding

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flink-hub/flink-hub/internal/sharding/shardlease"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// gatedReady is a ReadyFor that reports every shard ready once open is
// set, none before: a successor whose members are not engaged yet.
type gatedReady struct{ open atomic.Bool }

func (g *gatedReady) readyFor(shards []int) []int {
	if g.open.Load() {
		return shards
	}
	return nil
}

// handshakeOpts turns the handshake on with a member spread of 1 over 8
// shards; wait bounds it.
func handshakeOpts(g *gatedReady, wait time.Duration) []Option {
	return []Option{WithShards(8), WithSpread(1), WithHandoffWait(wait), WithReadyFor(g.readyFor)}
}

// settled reports whether the shards are where the assignment of es's
// replicas (weight 1, no shard weights) puts them, each held by its
// assignee alone: no handoff in flight. exactlyOnce alone may catch a
// replica still holding a shard its successor is about to announce ready.
func settled(shards int, es ...*running) error {
	if err := exactlyOnce(shards, true, es...); err != nil {
		return err
	}
	var members []Member
	for _, e := range es {
		members = append(members, Member{ID: e.Identity(), Weight: 1})
	}
	assignment := Assign(members, shards)
	for _, e := range es {
		if got, want := e.OwnedShards(), assignment.ShardsOf(e.Identity()); !slices.Equal(got, want) {
			return fmt.Errorf("%s owns shards %v, assigned %v", e.Identity(), got, want)
		}
	}
	return nil
}

// keptForSuccessor are the shards e holds and still admits although the
// assignment gave them to another replica.
func keptForSuccessor(e *running) []int {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []int
	now := time.Now()
	for k, f := range e.fences {
		if !f.unassignedSince.IsZero() && e.ownsLocked(k, now) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// TestJoinWaitsForAReadySuccessor: shards a join moves stay with their
// holder, which keeps working them, until the newcomer announces them
// ready; then they move at once, long before the handoff wait.
func TestJoinWaitsForAReadySuccessor(t *testing.T) {
	ns := newNamespace(t)
	var ga, gb gatedReady
	ga.open.Store(true)
	a := start(t, hub.Config, ns, "a", handshakeOpts(&ga, time.Minute)...)
	eventually(t, 20*time.Second, func() error { return exactlyOnce(8, true, a) })
	b := start(t, hub.Config, ns, "b", handshakeOpts(&gb, time.Minute)...)
	var kept []int
	eventually(t, 20*time.Second, func() error {
		if kept = keptForSuccessor(a); len(kept) == 0 {
			return errors.New("a keeps no shard for b yet")
		}
		return nil
	})
	// Kept, not handed off: a still admits their keys, b holds none.
	if err := exactlyOnce(8, false, a, b); err != nil {
		t.Fatal(err)
	}
	if len(b.OwnedShards()) != 0 {
		t.Fatalf("b owns %v before it announced any shard ready", b.OwnedShards())
	}
	for _, k := range kept {
		if !b.ServesMember(memberOf(t, k)) {
			t.Errorf("b does not serve the member of shard %d it is assigned: it could not engage it", k)
		}
	}
	gb.open.Store(true)
	b.ReadinessChanged()
	eventually(t, 20*time.Second, func() error {
		if err := exactlyOnce(8, true, a, b); err != nil {
			return err
		}
		if got := b.OwnedShards(); !slices.Equal(got, kept) {
			return fmt.Errorf("b owns %v, a kept %v for it", got, kept)
		}
		return nil
	})
}

// TestLeavingKeepsWorkingUntilSuccessorsAreReady: a replica stopping
// gracefully announces it, keeps admitting its keys until the replica
// assigned its shards is ready, then hands them over and deletes its
// peer Lease.
func TestLeavingKeepsWorkingUntilSuccessorsAreReady(t *testing.T) {
	ns := newNamespace(t)
	var ga, gb gatedReady
	ga.open.Store(true)
	gb.open.Store(true)
	a := start(t, hub.Config, ns, "a", handshakeOpts(&ga, time.Minute)...)
	b := start(t, hub.Config, ns, "b", handshakeOpts(&gb, time.Minute)...)
	eventually(t, 20*time.Second, func() error { return settled(8, a, b) })
	mine := a.OwnedShards()
	gb.open.Store(false)
	stopped := make(chan error, 1)
	go func() { stopped <- a.stop() }()
	cs := clientFor(t, hub.Config)
	eventually(t, 20*time.Second, func() error {
		l, err := cs.CoordinationV1().Leases(ns).Get(context.Background(), shardlease.PeerLeaseName("a"), metav1.GetOptions{})
		if err != nil {
			return err
		}
		if l.Annotations[shardlease.LeavingAnnotation] != "true" {
			return errors.New("a's peer lease does not say it is leaving")
		}
		// `kubectl flinkhub shards --by-replica` reads it.
		if tbl, err := shardlease.ReadTable(context.Background(), cs, ns); err != nil || !tbl.Leaving["a"] {
			return fmt.Errorf("the shard table does not show a leaving (%v)", err)
		}
		if got := keptForSuccessor(a); !slices.Equal(got, mine) {
			return fmt.Errorf("a keeps %v for b, it held %v", got, mine)
		}
		return nil
	})
	// a still works every shard it held: its keys are admitted.
	for _, k := range mine {
		if _, done, ok := a.Begin(context.Background(), keyIn(t, k)); !ok {
			t.Errorf("a, leaving, refuses a key of shard %d before b is ready", k)
		} else {
			done(nil)
		}
	}
	gb.open.Store(true)
	b.ReadinessChanged()
	select {
	case err := <-stopped:
		if err != nil {
			t.Fatalf("graceful stop: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("a still runs 20 s after b was ready, its handoff wait is a minute")
	}
	eventually(t, 20*time.Second, func() error { return exactlyOnce(8, true, b) })
	if _, err := cs.CoordinationV1().Leases(ns).Get(context.Background(), shardlease.PeerLeaseName("a"), metav1.GetOptions{}); err == nil {
		t.Error("a's peer lease outlived its stop")
	}
}

// TestLeavingEndsAfterTheHandoffWait: a successor that never becomes
// ready holds a leaving replica back for the handoff wait only.
func TestLeavingEndsAfterTheHandoffWait(t *testing.T) {
	ns := newNamespace(t)
	var ga, gb gatedReady
	ga.open.Store(true)
	gb.open.Store(true)
	a := start(t, hub.Config, ns, "a", handshakeOpts(&ga, 2*time.Second)...)
	b := start(t, hub.Config, ns, "b", handshakeOpts(&gb, 2*time.Second)...)
	eventually(t, 20*time.Second, func() error { return settled(8, a, b) })
	mine := len(a.OwnedShards())
	gb.open.Store(false)
	timeouts := counterValue(t, successorTimeouts)
	if err := a.stop(); err != nil {
		t.Fatalf("graceful stop: %v", err)
	}
	eventually(t, 20*time.Second, func() error { return exactlyOnce(8, true, b) })
	// Not silent: each shard handed off unannounced is counted.
	if got := counterValue(t, successorTimeouts) - timeouts; got != float64(mine) {
		t.Errorf("flinkhub_sharding_successor_timeouts_total grew by %v, a handed %d shards to a successor never ready", got, mine)
	}
}

// memberOf finds a member name whose home shard (W = 1, S = 8) is k.
func memberOf(t *testing.T, k int) string {
	t.Helper()
	for i := range 10000 {
		if m := fmt.Sprintf("member-%d", i); HomeShard(m, 8) == k {
			return m
		}
	}
	t.Fatalf("no member homed on shard %d", k)
	return ""
}

// keyIn is a FlinkDeployment key in shard k (W = 1, S = 8).
func keyIn(t *testing.T, k int) string {
	return memberOf(t, k) + "/ns/job"
}
