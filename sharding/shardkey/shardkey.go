// Package shardkey is the one key type of an object of a member cluster
// that the shard gate, the fleet index and the controllers share. It
// imports nothing of the hub, so every package may use it.
package shardkey

import "strings"

// Key names an object of a member cluster. Its String is what sharding
// hashes.
type Key struct{ Cluster, Namespace, Name string }

// String returns cluster/namespace/name.
func (k Key) String() string { return k.Cluster + "/" + k.Namespace + "/" + k.Name }

// Parse undoes String. ok is false when s does not have three parts.
func Parse(s string) (k Key, ok bool) {
	parts := strings.SplitN(s, "/", 3)
	if len(parts) != 3 {
		return Key{}, false
	}
	return Key{parts[0], parts[1], parts[2]}, true
}
