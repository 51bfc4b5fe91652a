package framework_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/flink-hub/flink-hub/e2e/framework"
)

func TestConsistently(t *testing.T) {
	broken := errors.New("broken")
	for _, tc := range []struct {
		name      string
		window    time.Duration
		failAfter int // cond fails from this call on; 0: never
		want      error
		minCalls  int
	}{
		{name: "holds for the whole window", window: 10 * framework.PollInterval, minCalls: 2},
		// A long window: the failure, not the window's end, ends these.
		{name: "fails at once", window: time.Minute, failAfter: 1, want: broken, minCalls: 1},
		{name: "fails later", window: time.Minute, failAfter: 3, want: broken, minCalls: 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			err := framework.Consistently(context.Background(), tc.window, func(context.Context) error {
				calls++
				if tc.failAfter > 0 && calls >= tc.failAfter {
					return broken
				}
				return nil
			})
			if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if calls < tc.minCalls {
				t.Fatalf("%d calls, want at least %d", calls, tc.minCalls)
			}
			if tc.want != nil && calls != tc.failAfter {
				t.Fatalf("%d calls after the first failure at %d: it went on polling", calls, tc.failAfter)
			}
		})
	}
}

func TestConsistentlyEndsWithTheWindow(t *testing.T) {
	// A cond that blocks until its context ends does not count as broken.
	err := framework.Consistently(context.Background(), 2*framework.PollInterval, func(ctx context.Context) error {
		<-ctx.Done()
		return ctx.Err()
	})
	if err != nil {
		t.Fatalf("err = %v, want nil when the window ends during cond", err)
	}
}

func TestEventuallyEveryWaitsItsInterval(t *testing.T) {
	calls := 0
	err := framework.EventuallyEvery(context.Background(), 5*framework.PollInterval, time.Hour, func(context.Context) (bool, error) {
		calls++
		return false, nil
	})
	if err == nil {
		t.Fatal("a condition never met was reported met")
	}
	if calls != 1 {
		t.Fatalf("%d calls within a timeout shorter than the interval, want 1", calls)
	}
}
