package framework

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// PollInterval is how often Eventually re-checks its condition.
const PollInterval = 50 * time.Millisecond

// Eventually calls cond until it returns true or the timeout passes, and then
// returns an error with cond's last error. It never sleeps past the deadline.
func Eventually(ctx context.Context, timeout time.Duration, cond func(context.Context) (bool, error)) error {
	return EventuallyEvery(ctx, timeout, PollInterval, cond)
}

// EventuallyEvery is Eventually calling cond every interval instead of
// every PollInterval, for conditions too costly to check that often.
func EventuallyEvery(ctx context.Context, timeout, interval time.Duration, cond func(context.Context) (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	var lastErr error
	for {
		ok, err := cond(ctx)
		if ok && err == nil {
			return nil
		}
		lastErr = err
		select {
		case <-ctx.Done():
			if lastErr != nil {
				return fmt.Errorf("condition not met within %s: %w", timeout, lastErr)
			}
			return fmt.Errorf("condition not met within %s", timeout)
		case <-ticker.C:
		}
	}
}

// AwaitTimeout bounds Await.
const AwaitTimeout = 30 * time.Second

// Await polls cond until it returns nil and fails the test, naming what it
// waited for and cond's last error, when AwaitTimeout passes first.
func Await(t testing.TB, what string, cond func() error) {
	t.Helper()
	AwaitWithin(t, AwaitTimeout, what, cond)
}

// AwaitWithin is Await with a timeout; it returns how long cond took to
// hold.
func AwaitWithin(t testing.TB, timeout time.Duration, what string, cond func() error) time.Duration {
	t.Helper()
	start := time.Now()
	var last error
	err := Eventually(context.Background(), timeout, func(context.Context) (bool, error) {
		last = cond()
		return last == nil, nil
	})
	if err != nil {
		t.Fatalf("%s: not within %s: %v", what, timeout, last)
	}
	return time.Since(start)
}

// Consistently calls cond every PollInterval for d and returns cond's first
// error, or nil if cond held every time (at least once).
func Consistently(ctx context.Context, d time.Duration, cond func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	ticker := time.NewTicker(PollInterval)
	defer ticker.Stop()
	for {
		if err := cond(ctx); err != nil {
			if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
				return nil // the window ended during cond
			}
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
	}
}

// Hold fails the test when cond fails at any poll within d, naming what
// was to hold.
func Hold(t testing.TB, d time.Duration, what string, cond func() error) {
	t.Helper()
	if err := Consistently(context.Background(), d, func(context.Context) error { return cond() }); err != nil {
		t.Fatalf("%s: broke within %s: %v", what, d, err)
	}
}
