package workershare

import (
	"fmt"
	"sync"
	"testing"
)

func TestLimit(t *testing.T) {
	cases := []struct {
		workers int
		share   float64
		want    int
	}{
		{8, 0.5, 4},
		{7, 0.5, 4},
		{2, 0.5, 1},
		{1, 0.5, 1},
		{3, 0.5, 2},
		{10, 0.3, 3},
		{8, 1, 8},
		{8, 2, 8},
		{8, 0.01, 1},
		{0, 0.5, 1},
		{8, 0.25, 2},
	}
	for _, tc := range cases {
		if got := Limit(tc.workers, tc.share); got != tc.want {
			t.Errorf("Limit(%d, %v) = %d, want %d", tc.workers, tc.share, got, tc.want)
		}
	}
}

func TestValidate(t *testing.T) {
	cases := []struct {
		share float64
		ok    bool
	}{
		{0.5, true}, {1, true}, {0.01, true}, {0, false}, {-1, false}, {1.5, false},
	}
	for _, tc := range cases {
		if err := Validate(tc.share); (err == nil) != tc.ok {
			t.Errorf("Validate(%v) = %v, want ok %v", tc.share, err, tc.ok)
		}
	}
}

// TestTryAcquire runs sequences of acquisitions (+member) and releases
// (-member, of the oldest held worker of that member) and checks each
// outcome.
func TestTryAcquire(t *testing.T) {
	type step struct {
		op     byte // '+' acquire, '-' release
		member string
		ok     bool // for '+': admitted
	}
	cases := []struct {
		name  string
		limit int
		steps []step
	}{
		{"limit one", 1, []step{{'+', "a", true}, {'+', "a", false}, {'+', "b", true}, {'-', "a", true}, {'+', "a", true}}},
		{"limit two", 2, []step{{'+', "a", true}, {'+', "a", true}, {'+', "a", false}, {'+', "b", true}, {'+', "b", true}, {'+', "b", false}, {'-', "b", true}, {'+', "b", true}, {'+', "a", false}}},
		{"zero limit means one", 0, []step{{'+', "a", true}, {'+', "a", false}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := New[string](tc.limit)
			held := map[string][]func() (string, bool){}
			for i, st := range tc.steps {
				switch st.op {
				case '+':
					release, ok := s.TryAcquire(st.member, fmt.Sprintf("%s-%d", st.member, i))
					if ok != st.ok {
						t.Fatalf("step %d: acquire %s: ok %v, want %v (busy %d)", i, st.member, ok, st.ok, s.Busy(st.member))
					}
					if ok {
						held[st.member] = append(held[st.member], release)
					}
				case '-':
					held[st.member][0]()
					held[st.member] = held[st.member][1:]
				}
				if got, want := s.Busy(st.member), len(held[st.member]); got != want {
					t.Fatalf("step %d: busy %s %d, want %d", i, st.member, got, want)
				}
			}
		})
	}
}

func TestReleaseIsIdempotent(t *testing.T) {
	s := New[string](1)
	release, ok := s.TryAcquire("a", "r1")
	if !ok {
		t.Fatal("first acquire refused")
	}
	release()
	release()
	if _, ok := s.TryAcquire("a", "r2"); !ok {
		t.Fatal("acquire after release refused")
	}
	if _, ok := s.TryAcquire("a", "r3"); ok {
		t.Fatal("a double release freed two workers")
	}
}

// TestConcurrentNeverOverLimit has many goroutines take and give back
// workers of one member; at no time do more than the limit hold one.
func TestConcurrentNeverOverLimit(t *testing.T) {
	const limit = 3
	s := New[string](limit)
	var mu sync.Mutex
	holding, peak := 0, 0
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 500 {
				release, ok := s.TryAcquire("m", "r")
				if !ok {
					continue
				}
				mu.Lock()
				holding++
				peak = max(peak, holding)
				mu.Unlock()
				mu.Lock()
				holding--
				mu.Unlock()
				release()
			}
		}()
	}
	wg.Wait()
	if peak > limit {
		t.Fatalf("%d workers held at once, limit %d", peak, limit)
	}
	if b := s.Busy("m"); b != 0 {
		t.Fatalf("busy %d after every release", b)
	}
}

// TestTurnedAwayRequestsAreHandedBack: a request turned away waits in its
// member's line, once however often it is turned away, and each release of
// a worker of that member hands back the oldest waiting one; another
// member's releases hand back nothing of it.
func TestTurnedAwayRequestsAreHandedBack(t *testing.T) {
	s := New[string](1)
	releaseA, ok := s.TryAcquire("a", "a1")
	if !ok {
		t.Fatal("first acquire refused")
	}
	for _, req := range []string{"a2", "a3", "a2"} {
		if _, ok := s.TryAcquire("a", req); ok {
			t.Fatalf("%s admitted over the limit", req)
		}
	}
	if n := s.Waiting("a"); n != 2 {
		t.Fatalf("%d requests of a waiting, want 2 (a2 once, a3)", n)
	}
	releaseB, ok := s.TryAcquire("b", "b1")
	if !ok {
		t.Fatal("b's first acquire refused")
	}
	if next, ok := releaseB(); ok {
		t.Fatalf("b's release handed back %s", next)
	}
	if next, ok := releaseA(); !ok || next != "a2" {
		t.Fatalf("a's release handed back %q, %v; want a2", next, ok)
	}
	releaseA2, ok := s.TryAcquire("a", "a2")
	if !ok {
		t.Fatal("the handed back request was refused")
	}
	if next, ok := releaseA2(); !ok || next != "a3" {
		t.Fatalf("the next release handed back %q, %v; want a3", next, ok)
	}
	if next, ok := releaseA2(); ok {
		t.Fatalf("a second call of one release handed back %s", next)
	}
	if n := s.Waiting("a"); n != 0 {
		t.Fatalf("%d requests still waiting", n)
	}
}
