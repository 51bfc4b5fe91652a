package sharding

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/flink-hub/flink-hub/internal/sharding/shardkey"
)

func members(prefix string, n int) []Member {
	out := make([]Member, n)
	for i := range out {
		out[i] = Member{ID: fmt.Sprintf("%s-%d", prefix, i), Weight: 1}
	}
	return out
}

var shardCounts = []int{16, 17, 32, 64, 100, 128, 256, 500, 512, 1000, 1024}

func loads(a Assignment) map[string]int {
	out := map[string]int{}
	for _, id := range a {
		out[id]++
	}
	return out
}

func TestAssignBalanceBound(t *testing.T) {
	for _, s := range shardCounts {
		for n := 1; n <= 10; n++ {
			t.Run(fmt.Sprintf("S=%d/N=%d", s, n), func(t *testing.T) {
				a := Assign(members("flink-hub", n), s)
				limit := int(math.Ceil(1.25 * float64(s) / float64(n)))
				for sh, id := range a {
					if id == "" {
						t.Fatalf("shard %d has no owner", sh)
					}
				}
				l := loads(a)
				if len(l) != n && s >= 8*n { // with few shards per peer HRW may leave one idle
					t.Errorf("%d of %d peers own shards: %v", len(l), n, l)
				}
				for id, c := range l {
					if c > limit {
						t.Errorf("%s owns %d shards, cap is %d", id, c, limit)
					}
				}
			})
		}
	}
}

// movementLimit is 1.25x the ideal movement plus at most one shard pushed
// along by the load cap per peer (which matters only when S/N is small).
func movementLimit(s, n int) int {
	return int(math.Ceil(1.25*float64(s)/float64(n))) + n
}

func moved(a, b Assignment) int {
	c := 0
	for i := range a {
		if a[i] != b[i] {
			c++
		}
	}
	return c
}

func TestAssignMinimalMovement(t *testing.T) {
	for _, s := range shardCounts {
		for n := 1; n <= 9; n++ {
			t.Run(fmt.Sprintf("S=%d/N=%d", s, n), func(t *testing.T) {
				before := members("flink-hub", n)
				for j := range 5 {
					joined := append(append([]Member{}, before...), Member{ID: fmt.Sprintf("new-%d", j), Weight: 1})
					a, b := Assign(before, s), Assign(joined, s)
					if m, limit := moved(a, b), movementLimit(s, n+1); m > limit {
						t.Errorf("join of %s moved %d shards, limit %d", joined[n].ID, m, limit)
					}
					// Every shard that moved on a join moved to the newcomer
					// or was pushed by the cap; the newcomer's shards all
					// came from someone.
					leaver := before[j%n].ID
					var rest []Member
					for _, m := range joined {
						if m.ID != leaver {
							rest = append(rest, m)
						}
					}
					c := Assign(rest, s)
					if m, limit := moved(b, c), movementLimit(s, n+1); m > limit {
						t.Errorf("leave of %s moved %d shards, limit %d", leaver, m, limit)
					}
					for sh := range b {
						if b[sh] == leaver && c[sh] == leaver {
							t.Fatalf("shard %d still assigned to %s after it left", sh, leaver)
						}
					}
				}
			})
		}
	}
}

// TestAssignFourthReplica pins the e2e scenario: S=64, three replicas, a
// fourth joins; at most 1.25x the ideal 16 shards move.
func TestAssignFourthReplica(t *testing.T) {
	three := members("replica", 3)
	four := members("replica", 4)
	if m := moved(Assign(three, 64), Assign(four, 64)); m > 20 {
		t.Fatalf("fourth replica moved %d shards, want <= 20", m)
	}
}

func TestAssignIsDeterministicAndOrderFree(t *testing.T) {
	ms := members("flink-hub", 7)
	want := Assign(ms, 64)
	r := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		shuffled := append([]Member{}, ms...)
		r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		shuffled = append(shuffled, shuffled[0]) // duplicates count once
		got := Assign(shuffled, 64)
		if moved(want, got) != 0 {
			t.Fatalf("assignment depends on member order: %v vs %v", want, got)
		}
	}
}

func TestAssignWeights(t *testing.T) {
	ms := []Member{{ID: "big", Weight: 3}, {ID: "small-1", Weight: 1}, {ID: "small-2", Weight: 1}}
	l := loads(Assign(ms, 1000))
	if l["big"] < 500 || l["big"] > Capacity(1000, 3, 5) {
		t.Fatalf("weight 3 of 5 should own about 600 of 1000 shards, owns %d (%v)", l["big"], l)
	}
}

func TestAssignEdgeCases(t *testing.T) {
	if a := Assign(nil, 8); len(a) != 8 || a[0] != "" {
		t.Fatalf("no members: want 8 unowned shards, got %v", a)
	}
	if a := Assign(members("x", 3), 0); len(a) != 0 {
		t.Fatalf("zero shards: got %v", a)
	}
	a := Assign([]Member{{ID: "w0", Weight: 0}, {ID: "wnan", Weight: math.NaN()}}, 10)
	if l := loads(a); l["w0"]+l["wnan"] != 10 {
		t.Fatalf("invalid weights count as 1: %v", l)
	}
}

func TestShardOfIsStableAndSpread(t *testing.T) {
	// Pinned values: a change of hash function would move every key.
	for _, tc := range []struct {
		key    string
		shards int
		want   int
	}{
		{"member-1/default/basic-example", 64, 18},
		{"member-2/prod/etl", 64, 57},
		{"a/b/c", 1024, 1023},
	} {
		if got := ShardOf(tc.key, tc.shards); got != tc.want {
			t.Errorf("ShardOf(%q, %d) = %d, want %d", tc.key, tc.shards, got, tc.want)
		}
	}
	counts := make([]int, 64)
	for i := range 64000 {
		counts[ShardOf(shardkey.Key{Cluster: "member-1", Namespace: "ns", Name: fmt.Sprintf("fd-%d", i)}.String(), 64)]++
	}
	for s, c := range counts {
		if c < 800 || c > 1200 {
			t.Errorf("shard %d has %d of 64000 keys, want about 1000", s, c)
		}
	}
}
