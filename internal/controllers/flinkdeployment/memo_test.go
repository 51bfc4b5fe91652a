package flinkdeployment

import (
	"fmt"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

// TestOwnWritesLagging: a cached copy still at the version this replica's
// last write replaced lags; one at any other version does not, nor does
// one after the wait, and once the cache has caught up the write is
// forgotten.
func TestOwnWritesLagging(t *testing.T) {
	t0 := time.Unix(1000, 0)
	cases := []struct {
		name     string
		wrote    bool
		cachedRV string
		at       time.Time
		want     bool
	}{
		{"no write of this replica", false, "5", t0, false},
		{"cache has the replaced version", true, "5", t0.Add(time.Second), true},
		{"cache has the write", true, "6", t0.Add(time.Second), false},
		{"cache has a later write", true, "9", t0.Add(time.Second), false},
		{"the wait is over", true, "5", t0.Add(ownWriteWait), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var w ownWrites
			if tc.wrote {
				w.wrote("uid", "5", t0)
			}
			if got := w.lagging("uid", tc.cachedRV, tc.at); got != tc.want {
				t.Fatalf("lagging = %t, want %t", got, tc.want)
			}
			if !tc.want && w.lagging("uid", "5", t0.Add(time.Second)) {
				t.Fatal("a write the cache caught up with (or waited out) is still remembered")
			}
		})
	}
}

// TestMemoIsBounded: past maxRemembered entries a memo starts over, so a
// replica that sees many objects does not grow without bound.
func TestMemoIsBounded(t *testing.T) {
	var m memo[int]
	for i := range maxRemembered + 10 {
		m.set(types.UID(fmt.Sprint(i)), i)
	}
	if n := len(m.m); n > maxRemembered {
		t.Fatalf("%d entries, more than %d", n, maxRemembered)
	}
	if v, ok := m.get(types.UID(fmt.Sprint(maxRemembered + 9))); !ok || v != maxRemembered+9 {
		t.Fatalf("the newest entry is lost: %d %t", v, ok)
	}
}
