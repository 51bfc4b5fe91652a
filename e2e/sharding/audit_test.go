package sharding

import (
	"testing"
	"time"
)

// TestOverlapAudit checks the audit itself: it must flag two replicas'
// overlapping reconciles of one key, and nothing else.
func TestOverlapAudit(t *testing.T) {
	at := func(ms int) time.Time { return time.Unix(0, 0).Add(time.Duration(ms) * time.Millisecond) }
	for _, tc := range []struct {
		name string
		ivs  []interval
		want int
	}{
		{"disjoint", []interval{{"a", "k", at(0), at(10), false}, {"b", "k", at(10), at(20), false}}, 0},
		{"overlap", []interval{{"a", "k", at(0), at(10), false}, {"b", "k", at(9), at(20), false}}, 1},
		{"contained", []interval{{"a", "k", at(0), at(100), false}, {"b", "k", at(40), at(50), false}, {"c", "k", at(60), at(70), false}}, 2},
		{"killed replica still running", []interval{{"a", "k", at(0), at(30), true}, {"b", "k", at(20), at(40), false}}, 1},
		{"same replica", []interval{{"a", "k", at(0), at(10), false}, {"a", "k", at(5), at(20), false}}, 0},
		{"different keys", []interval{{"a", "k1", at(0), at(10), false}, {"b", "k2", at(0), at(10), false}}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := overlaps(tc.ivs); len(got) != tc.want {
				t.Fatalf("overlaps = %v, want %d", got, tc.want)
			}
		})
	}
}
