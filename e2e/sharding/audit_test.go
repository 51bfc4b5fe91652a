package sharding

import (
	"testing"
	"time"
)

// TestOverlapAudit checks the audit itself: it must flag two replicas'
// overlapping reconciles of one key, and nothing else.
func TestOverlapAudit(t *testing.T) {
	at := func(ms int) time.Time { return time.Unix(0, 0).Add(time.Duration(ms) * time.Millisecond) }
	// iv is replica's reconcile of key from start to end ms.
	iv := func(replica, key string, start, end int, open bool) interval {
		return interval{Replica: replica, Key: key, Start: at(start), End: at(end), Open: open}
	}
	for _, tc := range []struct {
		name string
		ivs  []interval
		want int
	}{
		{"disjoint", []interval{iv("a", "k", 0, 10, false), iv("b", "k", 10, 20, false)}, 0},
		{"overlap", []interval{iv("a", "k", 0, 10, false), iv("b", "k", 9, 20, false)}, 1},
		{"contained", []interval{iv("a", "k", 0, 100, false), iv("b", "k", 40, 50, false), iv("c", "k", 60, 70, false)}, 2},
		{"killed replica still running", []interval{iv("a", "k", 0, 30, true), iv("b", "k", 20, 40, false)}, 1},
		{"same replica", []interval{iv("a", "k", 0, 10, false), iv("a", "k", 5, 20, false)}, 0},
		{"different keys", []interval{iv("a", "k1", 0, 10, false), iv("b", "k2", 0, 10, false)}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := overlaps(tc.ivs); len(got) != tc.want {
				t.Fatalf("overlaps = %v, want %d", got, tc.want)
			}
		})
	}
}
