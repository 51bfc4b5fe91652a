package handoff

import (
	"context"
	"testing"
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
