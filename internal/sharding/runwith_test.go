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
	bindErr := errors.New("listen tcp 127.0.0.1:8082: bind: address already in use")
	// With the successor handshake on, a replica whose manager is gone
	// does not wait for its successor to be ready (here it never is):
	// nothing works its shards.
	handshake := func(ready bool) []Option {
		return []Option{WithShards(8), WithSpread(1), WithHandoffWait(time.Minute), WithReadyFor(func(s []int) []int {
			if ready {
				return s
			}
			return nil
		})}
	}
	plain := []Option{WithShards(8)}
	cases := []struct {
		name          string
		err           error
		other, zombie []Option
	}{
		{"with an error", bindErr, plain, plain},
		{"without one", nil, plain, plain},
		{"with the successor handshake", bindErr, handshake(false), handshake(true)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { checkLeavesWhenManagerStops(t, tc.err, tc.other, tc.zombie) })
	}
}

// checkLeavesWhenManagerStops runs a replica (with zombie's options)
// beside another (with other's) until its manager stops with mgrErr.
func checkLeavesWhenManagerStops(t *testing.T, mgrErr error, other, zombie []Option) {
	ns := newNamespace(t)
	o := start(t, hub.Config, ns, "other", other...)
	e, err := New(clientFor(t, hub.Config), ns, "zombie", append([]Option{WithTimings(testLease, testRenew, testRetry), WithLogger(testr.New(t))}, zombie...)...)
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
		if n := len(o.OwnedShards()); n != 8 {
			return fmt.Errorf("the other replica holds %d of 8 shards", n)
		}
		return nil
	})
}
