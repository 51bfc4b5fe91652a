package framework

import (
	"context"
	"fmt"
	"time"
)

// PollInterval is how often Eventually re-checks its condition.
const PollInterval = 100 * time.Millisecond

// Eventually calls cond until it returns true or the timeout passes, and then
// returns an error with cond's last error. It never sleeps past the deadline.
func Eventually(ctx context.Context, timeout time.Duration, cond func(context.Context) (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ticker := time.NewTicker(PollInterval)
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
