package sharding

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/flink-hub/flink-hub/internal/sharding/handoff"
)

// withFirstsTTL sets how long a key not admitted again stays confirmed.
func withFirstsTTL(d time.Duration) Option { return func(o *Options) { o.firstsTTL = d } }

// firstOf admits one reconcile of key, ends it with err and reports
// whether it was marked first since the shard was acquired.
func firstOf(t *testing.T, e *running, key string, err error) bool {
	t.Helper()
	ctx, done, ok := e.Begin(context.Background(), key)
	if !ok {
		t.Fatalf("Begin refused %s", key)
	}
	done(err)
	return handoff.First(ctx)
}

// TestFailedFirstReconcileStaysFirst: the mark of the first reconcile
// since the shard was acquired (confirm the cache or read live) is used up
// only by a reconcile that succeeds: a first reconcile whose live read
// timed out, or that was cancelled, leaves its retry marked, which would
// otherwise trust a cache that may lack the previous owner's last writes.
func TestFailedFirstReconcileStaysFirst(t *testing.T) {
	ns := newNamespace(t)
	e := start(t, hub.Config, ns, "a", WithShards(1))
	eventually(t, 10*time.Second, func() error { return exactlyOnce(1, true, e) })
	const key = "m/ns/fd"
	for i, err := range []error{errors.New("live read timed out"), context.Canceled} {
		if !firstOf(t, e, key, err) {
			t.Fatalf("attempt %d after failed first reconciles is not marked first", i+1)
		}
	}
	// Two at once (a controller that allows it): both marked until one
	// succeeded.
	ctx, done, _ := e.Begin(context.Background(), key)
	if !firstOf(t, e, key, nil) || !handoff.First(ctx) {
		t.Fatal("a reconcile admitted before any succeeded is not marked first")
	}
	done(nil)
	if firstOf(t, e, key, nil) {
		t.Fatal("a reconcile after a successful first one is marked first again")
	}
}

// TestFirstsStayBounded: short-lived keys (snapshots created and deleted
// all the time) do not pile up in what a fence remembers: keys not
// admitted for the TTL are dropped, a key reconciled meanwhile stays
// confirmed, and a dropped key that comes back is marked first again
// (one more confirmation, never a missed one).
func TestFirstsStayBounded(t *testing.T) {
	ns := newNamespace(t)
	// The TTL leaves the polls below (hot's reconciles) time on a loaded
	// machine; the first reconciles may take longer than it, so what is
	// checked right after them is the last one's key.
	e := start(t, hub.Config, ns, "a", WithShards(1), withFirstsTTL(3*time.Second))
	eventually(t, 10*time.Second, func() error { return exactlyOnce(1, true, e) })
	const n = 10000
	key := func(i int) string { return fmt.Sprintf("m/ns/snapshot:fd-%d", i) }
	for i := range n {
		if !firstOf(t, e, key(i), nil) {
			t.Fatalf("key %d not marked first at its first reconcile", i)
		}
	}
	const hot = "m/ns/fd"
	firstOf(t, e, hot, nil)
	if firstOf(t, e, key(n-1), nil) {
		t.Fatal("a key whose first reconcile succeeded is marked first again")
	}
	remembered := func() int {
		e.mu.Lock()
		defer e.mu.Unlock()
		return len(e.fences[0].firsts.keys)
	}
	if got := remembered(); got < 2 {
		t.Fatalf("%d keys remembered right after %d first reconciles, want the last ones at least", got, n)
	}
	eventually(t, 30*time.Second, func() error {
		if firstOf(t, e, hot, nil) {
			t.Fatal("a key reconciled all along was marked first again")
		}
		if got := remembered(); got != 1 {
			return fmt.Errorf("%d keys remembered, want only the one still reconciled", got)
		}
		return nil
	})
	if !firstOf(t, e, key(n-1), nil) {
		t.Fatal("a key dropped from the fence's memory is not marked first when it comes back")
	}
}
