package handoff

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestFirst(t *testing.T) {
	ctx := context.Background()
	if First(ctx) {
		t.Error("an unmarked context is first")
	}
	first := WithFirst(ctx)
	if !First(first) {
		t.Error("a marked context is not first")
	}
	type other struct{}
	if !First(context.WithValue(first, other{}, 1)) {
		t.Error("the mark does not survive a derived context")
	}
	if at := Acquired(first); !at.IsZero() {
		t.Errorf("WithFirst says the shard was acquired at %v, want no time", at)
	}
	acquired := time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC)
	since := WithFirstSince(ctx, acquired)
	if !First(since) || !Acquired(since).Equal(acquired) {
		t.Errorf("WithFirstSince: first %v, acquired %v, want first at %v", First(since), Acquired(since), acquired)
	}
	if at := Acquired(ctx); !at.IsZero() {
		t.Errorf("an unmarked context was acquired at %v", at)
	}
}

func TestStillOwned(t *testing.T) {
	if !StillOwned(context.Background()) {
		t.Error("a context without an ownership check is owned while not cancelled")
	}
	owned := true
	ctx, cancel := context.WithCancel(WithOwnership(context.Background(), func() bool { return owned }))
	if !StillOwned(ctx) {
		t.Error("owned while the check passes")
	}
	owned = false
	if StillOwned(ctx) {
		t.Error("still owned once the check fails, before any cancellation")
	}
	owned = true
	cancel()
	if StillOwned(ctx) {
		t.Error("still owned once cancelled")
	}
}

// TestCheckOwned: a write goes out only while the key is still owned: no
// ownership check in the context (tests without an elector) lets it; a
// failing check or a cancelled context refuse it with ErrNotOwned, which
// reads as a cancellation.
func TestCheckOwned(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name string
		ctx  context.Context
		ok   bool
	}{
		{"no ownership check", context.Background(), true},
		{"owned", WithOwnership(context.Background(), func() bool { return true }), true},
		{"fence lapsed", WithOwnership(context.Background(), func() bool { return false }), false},
		{"context cancelled", WithOwnership(cancelled, func() bool { return true }), false},
	} {
		err := CheckOwned(tc.ctx)
		if (err == nil) != tc.ok || (err != nil && (!errors.Is(err, ErrNotOwned) || !errors.Is(err, context.Canceled))) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}
