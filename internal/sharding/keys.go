package sharding

import "hash/fnv"

// DefaultShards is the default number of virtual shards, S.
const DefaultShards = 64

// ShardOf is the shard of key among shards: a stable 64-bit hash of the key
// modulo shards. It never changes for a key as long as shards does not.
// shards must be positive.
func ShardOf(key string, shards int) int {
	return int(hash64(key) % uint64(shards))
}

// hash64 is FNV-1a 64 followed by the splitmix64 finalizer, so keys that
// differ in one character land far apart.
func hash64(s string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(s))
	return mix64(h.Sum64())
}

func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}
