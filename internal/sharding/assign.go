package sharding

import (
	"math"
	"sort"
	"strconv"
)

// LoadFactor bounds a peer's load: no peer gets more than
// ceil(LoadFactor * S * weight / total weight) shards.
const LoadFactor = 1.25

// Member is a live peer as the assignment sees it.
type Member struct {
	// ID is the replica identity.
	ID string
	// Weight scales the peer's share; 1 is the default, values <= 0 count as 1.
	Weight float64
}

// Assignment maps each shard (index) to the ID of its owner; "" when there
// are no members.
type Assignment []string

// ShardsOf returns the shards assigned to id, ascending.
func (a Assignment) ShardsOf(id string) []int {
	var out []int
	for s, owner := range a {
		if owner == id {
			out = append(out, s)
		}
	}
	return out
}

// Capacity is the most shards a member of weight w may own among members of
// total weight total: ceil(LoadFactor * shards * w / total).
func Capacity(shards int, w, total float64) int {
	return int(math.Ceil(LoadFactor * float64(shards) * w / total))
}

// Assign distributes shards over members by weighted rendezvous (HRW)
// hashing with a bounded load. It is a pure function: every replica that
// sees the same members computes the same assignment, whatever their order.
//
// Every (shard, member) pair gets a score; pairs are taken best first and a
// shard goes to the first member of its pair that still has capacity. A
// member joining or leaving therefore moves about 1/N of the shards.
// Duplicate IDs count once.
func Assign(members []Member, shards int) Assignment {
	return AssignWeighted(members, shards, nil)
}

// AssignWeighted is Assign where shard s counts weights[s] against a
// member's capacity, ceil(LoadFactor * total weight * w / total member
// weight), instead of 1: with a member spread the weights are the members
// homed on each shard, so that members, not shards, are balanced. Every
// member first gets up to its floor share, floor(total weight * w / total
// member weight), so a member's few shards go to as many replicas as there
// are (the 1.25 cap alone may leave a replica idle). A shard
// of weight 0 goes to its best-scoring member whatever its load; a shard
// no member has room left for goes to the member with the least load for
// its weight (then the least ID). nil weights, or weights that are all 0,
// count every shard as 1 (Assign).
func AssignWeighted(members []Member, shards int, weights []int) Assignment {
	out := make(Assignment, shards)
	ms := dedupe(members)
	if len(ms) == 0 || shards <= 0 {
		return out
	}
	total := 0.0
	for _, m := range ms {
		total += m.Weight
	}
	type pair struct {
		score  float64
		shard  int
		member int
	}
	pairs := make([]pair, 0, shards*len(ms))
	for s := range shards {
		prefix := strconv.Itoa(s) + "\x00"
		for i, m := range ms {
			pairs = append(pairs, pair{score: score(prefix+m.ID, m.Weight), shard: s, member: i})
		}
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].score != pairs[j].score {
			return pairs[i].score > pairs[j].score
		}
		if pairs[i].shard != pairs[j].shard {
			return pairs[i].shard < pairs[j].shard
		}
		return ms[pairs[i].member].ID < ms[pairs[j].member].ID
	})
	weight, units, weighted := shardWeights(weights, shards)
	load := make([]int, len(ms))
	left := shards
	// fill hands the shards still unowned, best pair first, to members
	// under their capacity.
	fill := func(capacity func(m Member) int) {
		for _, p := range pairs {
			if left == 0 {
				return
			}
			w := weight(p.shard)
			if out[p.shard] != "" || (w > 0 && load[p.member]+w > capacity(ms[p.member])) {
				continue
			}
			out[p.shard] = ms[p.member].ID
			load[p.member] += w
			left--
		}
	}
	if weighted {
		// First every member up to its floor share: when the weight is in
		// a few shards (a big member on its W shards) the 1.25 cap alone
		// lets two replicas take them all and leave a third idle.
		fill(func(m Member) int { return int(float64(units) * m.Weight / total) })
	}
	fill(func(m Member) int { return Capacity(units, m.Weight, total) })
	// Heavy shards that fit nowhere: the least loaded member for its
	// weight takes each, heaviest first.
	var rest []int
	for s, id := range out {
		if id == "" {
			rest = append(rest, s)
		}
	}
	sort.SliceStable(rest, func(i, j int) bool { return weight(rest[i]) > weight(rest[j]) })
	for _, s := range rest {
		best := -1
		for i, m := range ms {
			if best < 0 || float64(load[i])/m.Weight < float64(load[best])/ms[best].Weight ||
				(float64(load[i])/m.Weight == float64(load[best])/ms[best].Weight && m.ID < ms[best].ID) {
				best = i
			}
		}
		out[s] = ms[best].ID
		load[best] += weight(s)
	}
	return out
}

// shardWeights returns the weight of each shard, their sum and whether
// weights count: weights when any is positive, else 1 for every shard.
// Negative weights count 0.
func shardWeights(weights []int, shards int) (func(int) int, int, bool) {
	units := 0
	for s := 0; s < shards && s < len(weights); s++ {
		units += max(weights[s], 0)
	}
	if units == 0 {
		return func(int) int { return 1 }, shards, false
	}
	return func(s int) int {
		if s < len(weights) {
			return max(weights[s], 0)
		}
		return 0
	}, units, true
}

// score is the weighted rendezvous score -w/ln(u), u uniform in (0,1) from
// the hash of shard and member.
func score(s string, w float64) float64 {
	u := (float64(hash64(s)>>11) + 0.5) / (1 << 53)
	return -w / math.Log(u)
}

func dedupe(members []Member) []Member {
	seen := make(map[string]bool, len(members))
	out := make([]Member, 0, len(members))
	for _, m := range members {
		if m.ID == "" || seen[m.ID] {
			continue
		}
		seen[m.ID] = true
		if m.Weight <= 0 || math.IsNaN(m.Weight) || math.IsInf(m.Weight, 0) {
			m.Weight = 1
		}
		out = append(out, m)
	}
	return out
}
