package sharding

import (
	"slices"
	"strings"
)

// With a member spread W (Options.Spread) the shard of a key depends on
// its member cluster: the member's W shards are consecutive from
// h(member) mod S, and a key takes one of them by the hash of the rest of
// the key. A member thus lives on at most W shards, served by at most W
// replicas, which are the only ones that connect to it; its keys still
// spread over those W shards. W = 1 assigns whole members (as Argo CD's
// cluster sharding); W = S spreads a member as widely as without a
// spread, but still ties each key to its member's shards.
//
// Invariant: for every key k of member m, MemberShardOf(k) is in
// MemberShards(m).

// MemberShardOf is the shard of key ("cluster/namespace/name") among
// shards with member spread spread (1..shards).
func MemberShardOf(key string, shards, spread int) int {
	cluster, rest, _ := strings.Cut(key, "/")
	base := hash64(cluster) % uint64(shards)
	offset := hash64(rest) % uint64(spread)
	return int((base + offset) % uint64(shards))
}

// MemberShards are the shards of member cluster's keys, ascending from
// its base shard (the first is the member's home shard, HomeShard).
func MemberShards(cluster string, shards, spread int) []int {
	base := int(hash64(cluster) % uint64(shards))
	out := make([]int, 0, spread)
	for i := range spread {
		out = append(out, (base+i)%shards)
	}
	return out
}

// HomeShard is the member's first shard: its owner does the member's own
// work (health probes, MemberCluster status).
func HomeShard(cluster string, shards int) int {
	return int(hash64(cluster) % uint64(shards))
}

// MemberWeights are the shard weights that balance members: each member
// adds one to each of its W shards.
func MemberWeights(members []string, shards, spread int) []int {
	w := make([]int, shards)
	for _, m := range members {
		for _, s := range MemberShards(m, shards, spread) {
			w[s]++
		}
	}
	return w
}

// ReadyShards are those of shards whose every member (of members, the
// registered ones) is engaged: a replica could reconcile their keys at
// once. A shard no member lives on is ready.
func ReadyShards(shards []int, members []string, total, spread int, engaged func(member string) bool) []int {
	unready := map[int]bool{}
	for _, m := range members {
		var waiting []int
		for _, s := range MemberShards(m, total, spread) {
			if slices.Contains(shards, s) && !unready[s] {
				waiting = append(waiting, s)
			}
		}
		if len(waiting) > 0 && !engaged(m) {
			for _, s := range waiting {
				unready[s] = true
			}
		}
	}
	var out []int
	for _, s := range shards {
		if !unready[s] {
			out = append(out, s)
		}
	}
	return out
}
