package reconcileaudit

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestOverlaps(t *testing.T) {
	at := func(ms int) time.Time { return time.Unix(0, 0).Add(time.Duration(ms) * time.Millisecond) }
	iv := func(replica, key string, from, to int) Interval {
		return Interval{Key: key, Replica: replica, Start: at(from), End: at(to)}
	}
	for _, tc := range []struct {
		name string
		ivs  []Interval
		want int
	}{
		{"touching", []Interval{iv("a", "k", 0, 10), iv("b", "k", 10, 20)}, 0},
		{"overlap", []Interval{iv("a", "k", 0, 10), iv("b", "k", 9, 20)}, 1},
		{"contained twice", []Interval{iv("a", "k", 0, 100), iv("b", "k", 40, 50), iv("c", "k", 60, 70)}, 2},
		{"same replica", []Interval{iv("a", "k", 0, 10), iv("a", "k", 5, 20)}, 0},
		{"different keys", []Interval{iv("a", "k1", 0, 10), iv("b", "k2", 0, 10)}, 0},
		{"unsorted input", []Interval{iv("b", "k", 9, 20), iv("a", "k", 0, 10)}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Overlaps(tc.ivs); len(got) != tc.want {
				t.Fatalf("Overlaps = %v, want %d", got, tc.want)
			}
		})
	}
}

func TestWriterAndParse(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	a, err := Open(path, "a")
	if err != nil {
		t.Fatal(err)
	}
	b, err := Open(path, "b")
	if err != nil {
		t.Fatal(err)
	}
	a.Record("c/ns/x", true)
	a.Record("c/ns/x", false)
	b.Record("c/ns/x", true) // b is killed before it ends
	killed := time.Now().Add(time.Hour)
	a.Record("c/ns/y", true)
	a.Record("c/ns/y", false)
	_ = a.Close()
	_ = b.Close()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ivs, err := Parse(f, map[string]time.Time{"b": killed})
	if err != nil {
		t.Fatal(err)
	}
	if len(ivs) != 3 {
		t.Fatalf("intervals %+v, want 3", ivs)
	}
	var open *Interval
	for i := range ivs {
		if ivs[i].Open {
			open = &ivs[i]
		}
	}
	if open == nil || open.Replica != "b" || !open.End.Equal(killed) {
		t.Fatalf("b's unfinished reconcile must end at its death: %+v", ivs)
	}
	// b's open reconcile of x, extended to its death, overlaps nothing of a
	// (a's x ended before b began) but a's y is another key.
	if o := Overlaps(ivs); len(o) != 0 {
		t.Fatalf("overlaps %v", o)
	}
	if _, err := Parse(strings.NewReader("12 X a k\n"), nil); err == nil {
		t.Fatal("a malformed line must be an error")
	}
	if _, err := Open(path, "has space"); err == nil {
		t.Fatal("a replica id with a space must be refused")
	}
}
