// Package shardkey is the one key type of an object of a member cluster
// that the shard gate, the fleet index and the controllers share. It
// imports nothing of the hub, so every package may use it.
package shardkey

import "strings"

// Key names an object of a member cluster. Its String is what sharding
// hashes.
type Key struct {
	Cluster, Namespace, Name string
	// Kind is "" for a FlinkDeployment, else the kind of the object
	// (KindSessionJob), so that objects of different kinds with one name
	// have keys of their own.
	Kind string
}

// KindSessionJob is the Kind of a FlinkSessionJob's key.
const KindSessionJob = "sessionjob"

// KindSnapshot is the Kind of a FlinkStateSnapshot's key.
const KindSnapshot = "snapshot"

// String returns cluster/namespace/name, or cluster/namespace/kind:name
// for a kind other than FlinkDeployment (names never hold a colon).
func (k Key) String() string {
	name := k.Name
	if k.Kind != "" {
		name = k.Kind + ":" + k.Name
	}
	return k.Cluster + "/" + k.Namespace + "/" + name
}

// Parse undoes String. ok is false when s does not have three parts.
func Parse(s string) (k Key, ok bool) {
	parts := strings.SplitN(s, "/", 3)
	if len(parts) != 3 {
		return Key{}, false
	}
	k = Key{Cluster: parts[0], Namespace: parts[1], Name: parts[2]}
	if kind, name, found := strings.Cut(parts[2], ":"); found {
		k.Kind, k.Name = kind, name
	}
	return k, true
}
