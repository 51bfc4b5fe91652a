package framework

import (
	"testing"
	"time"
)

// EventuallyTimeout bounds Eventually.
const EventuallyTimeout = 30 * time.Second

// Eventually polls cond every 10ms until it returns nil, and fails the test
// with what and cond's last error when EventuallyTimeout passes first.
func Eventually(t testing.TB, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(EventuallyTimeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s: %v", what, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
