package deadline

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestBeyondAndRenew: a context Beyond the deadline outlives it and ends
// at its own bound or with the parent; Renew starts the deadline afresh.
func TestBeyondAndRenew(t *testing.T) {
	const d = 50 * time.Millisecond
	parent, stopParent := context.WithCancel(context.Background())
	defer stopParent()
	ctx, cancel := WithTimeout(parent, d)
	defer cancel()

	beyond, cancelBeyond := Beyond(ctx, 20*d)
	defer cancelBeyond()
	short, cancelShort := Beyond(ctx, d/2)
	defer cancelShort()
	<-ctx.Done()
	if beyond.Err() != nil {
		t.Fatalf("beyond ended with the deadline: %v", beyond.Err())
	}
	<-short.Done()
	if !errors.Is(short.Err(), context.DeadlineExceeded) {
		t.Fatalf("short bound: %v", short.Err())
	}
	renewed, cancelRenewed := Renew(ctx)
	defer cancelRenewed()
	if renewed.Err() != nil {
		t.Fatalf("renewed deadline already passed: %v", renewed.Err())
	}
	if dl, ok := renewed.Deadline(); !ok || time.Until(dl) > d {
		t.Fatalf("renewed deadline %v, %v: want at most %s away", dl, ok, d)
	}
	stopParent()
	<-beyond.Done()
	if !errors.Is(beyond.Err(), context.Canceled) {
		t.Fatalf("beyond did not end with the parent: %v", beyond.Err())
	}
}

// TestWithoutTimeout: no deadline, nothing to go beyond: Beyond bounds
// ctx, Renew leaves it.
func TestWithoutTimeout(t *testing.T) {
	ctx, cancel := WithTimeout(context.Background(), 0)
	defer cancel()
	if _, ok := ctx.Deadline(); ok {
		t.Fatal("a deadline of 0 set one")
	}
	b, cancelB := Beyond(ctx, time.Minute)
	defer cancelB()
	if _, ok := b.Deadline(); !ok {
		t.Fatal("Beyond without a renewable deadline is unbounded")
	}
	if r, _ := Renew(ctx); r != ctx {
		t.Fatal("Renew without a deadline changed ctx")
	}
}
