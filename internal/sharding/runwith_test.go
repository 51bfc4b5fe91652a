package sharding

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
)

// failingManager is a manager whose Start returns err once failed is
// closed, or when its context ends.
type failingManager struct {
	failed chan struct{}
	err    error
}

func (m failingManager) Start(ctx context.Context) error {
	select {
	case <-m.failed:
		return m.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// TestRunWithLeavesWhenTheManagerStops: a replica whose manager stops on
// its own (a runnable failed) leaves the election, its shards going to the
// others at once, and RunWith returns the manager's error; a manager that
// stops without one is an error too. Before, the replica stayed in the
// election holding shards it could no longer reconcile.
func TestRunWithLeavesWhenTheManagerStops(t *testing.T) {
	cases := []struct {
		name string
		err  error
	}{
		{"with an error", errors.New("listen tcp 127.0.0.1:8082: bind: address already in use")},
		{"without one", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { checkLeavesWhenManagerStops(t, tc.err) })
	}
}

// checkLeavesWhenManagerStops runs a replica beside another until its
// manager stops with mgrErr.
func checkLeavesWhenManagerStops(t *testing.T, mgrErr error) {
	ns := newNamespace(t)
	other := start(t, hub.Config, ns, "other", WithShards(8))
	e, err := New(clientFor(t, hub.Config), ns, "zombie", WithShards(8), WithTimings(testLease, testRenew, testRetry), WithLogger(testr.New(t)))
	if err != nil {
		t.Fatal(err)
	}
	mgr := failingManager{failed: make(chan struct{}), err: mgrErr}
	done := make(chan error, 1)
	go func() { done <- e.RunWith(context.Background(), mgr) }()
	eventually(t, 20*time.Second, func() error {
		if len(e.OwnedShards()) == 0 {
			return errors.New("the replica holds no shard yet")
		}
		return nil
	})
	close(mgr.failed)
	select {
	case err := <-done:
		want := mgrErr
		if want == nil {
			want = ErrManagerStopped
		}
		if !errors.Is(err, want) {
			t.Fatalf("RunWith = %v, want %v", err, want)
		}
	case <-time.After(testLease):
		t.Fatal("RunWith still runs after its manager stopped")
	}
	// Released at once, not after a lease: the other replica holds all.
	eventually(t, testLease, func() error {
		if n := len(other.OwnedShards()); n != 8 {
			return fmt.Errorf("the other replica holds %d of 8 shards", n)
		}
		return nil
	})
}
