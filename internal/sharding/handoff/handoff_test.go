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
