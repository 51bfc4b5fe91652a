package claim

import (
	"testing"
	"time"
)

// TestForeignClaimExpiresOnTheLocalClock: a claim held by another
// registration counts as expired only once its resourceVersion has stayed
// the same for a whole duration as this replica saw it; a renewal (a new
// resourceVersion) starts the wait again, and the holder's own clock
// (renewTime) plays no part.
func TestForeignClaimExpiresOnTheLocalClock(t *testing.T) {
	start := time.Now()
	c := New(time.Minute)
	steps := []struct {
		after           time.Duration
		resourceVersion string
		want            bool
	}{
		{0, "1", false},
		{59 * time.Second, "1", false},
		{61 * time.Second, "2", false}, // renewed: wait again
		{100 * time.Second, "2", false},
		{121 * time.Second, "2", true},
		{122 * time.Second, "3", false}, // renewed after all
	}
	for _, s := range steps {
		if got := c.expired("m", s.resourceVersion, start.Add(s.after)); got != s.want {
			t.Errorf("after %v at resourceVersion %s: expired %v, want %v", s.after, s.resourceVersion, got, s.want)
		}
	}
	if c.expired("other", "1", start.Add(time.Hour)) {
		t.Error("a member first seen now is expired")
	}
}

func TestNewDefaultsAndRenewInterval(t *testing.T) {
	if got := New(0).RenewInterval(); got != DefaultDuration/3 {
		t.Errorf("RenewInterval of the default = %v, want %v", got, DefaultDuration/3)
	}
	if got := New(30 * time.Second).RenewInterval(); got != 10*time.Second {
		t.Errorf("RenewInterval = %v, want 10s", got)
	}
}
