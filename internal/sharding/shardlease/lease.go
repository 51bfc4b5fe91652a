// Package shardlease is the format of the sharding Leases in the hub
// namespace (names, labels, annotations, what a peer Lease must hold) and
// the shard table they make; the elector writes them, the kubectl plugin
// reads them.
package shardlease

import (
	"fmt"
	"math"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Names, labels and annotations of the sharding Leases.
const (
	// PeerLeasePrefix prefixes a replica's peer Lease: flink-hub-peer-<id>.
	PeerLeasePrefix = "flink-hub-peer-"
	// ShardLeasePrefix prefixes a shard's fence Lease: flink-hub-shard-<k>.
	ShardLeasePrefix = "flink-hub-shard-"
	// RoleLabel marks sharding Leases with RolePeer or RoleShard.
	RoleLabel = "flink-hub.io/sharding"
	// RolePeer is the RoleLabel value of peer Leases.
	RolePeer = "peer"
	// RoleShard is the RoleLabel value of fence Leases.
	RoleShard = "shard"
	// ShardsAnnotation carries S on peer and fence Leases.
	ShardsAnnotation = "flink-hub.io/shards"
	// FleetAddressAnnotation, on a peer Lease, is host:port of the
	// replica's fleet API, which its peers ask for the members it serves.
	FleetAddressAnnotation = "flink-hub.io/fleet-address"
	// SpreadAnnotation, on the fleet's sharding Lease, is the member
	// spread W (sharding.Options.Spread); absent means 0.
	SpreadAnnotation = "flink-hub.io/member-spread"
	// WeightAnnotation carries a peer's weight.
	WeightAnnotation = "flink-hub.io/weight"
	// IncarnationAnnotation is a random value per process on its peer
	// Lease: it tells a write of our own from one of a duplicate.
	IncarnationAnnotation = "flink-hub.io/incarnation"
	// KeysAnnotation carries the number of cached keys of a shard, written
	// by its owner on every renewal.
	KeysAnnotation = "flink-hub.io/keys"
	// LeavingAnnotation, "true" on a peer Lease, says the replica is
	// stopping: the others assign its shards among themselves while it
	// still holds and works them.
	LeavingAnnotation = "flink-hub.io/leaving"
	// ReadyAnnotation, on a peer Lease, lists (comma-separated) the shards
	// the replica is assigned, does not hold yet, and could reconcile at
	// once (their members engaged, caches filled): their holder may
	// release them to it.
	ReadyAnnotation = "flink-hub.io/ready-shards"

	// MaxShards bounds S.
	MaxShards = 1 << 16
	// MaxWeight bounds a peer's weight.
	MaxWeight = 1000
	// MaxLeaseSeconds bounds a Lease's duration.
	MaxLeaseSeconds = 3600
)

// PeerLeaseName is the name of identity's peer Lease.
func PeerLeaseName(identity string) string { return PeerLeasePrefix + identity }

// ShardLeaseName is the name of shard's fence Lease.
func ShardLeaseName(shard int) string { return ShardLeasePrefix + strconv.Itoa(shard) }

// ValidateIdentity checks that identity can name a peer Lease.
func ValidateIdentity(identity string) error {
	if identity == "" {
		return fmt.Errorf("replica identity is empty")
	}
	if strings.Contains(identity, "/") {
		return fmt.Errorf("replica identity %q contains '/'", identity)
	}
	if errs := validation.IsDNS1123Subdomain(PeerLeaseName(identity)); len(errs) > 0 {
		return fmt.Errorf("replica identity %q does not make a valid Lease name: %s", identity, strings.Join(errs, "; "))
	}
	return nil
}

// Peer is a peer Lease that passed validation.
type Peer struct {
	// ID is the replica identity.
	ID string
	// Shards is the S the peer runs with.
	Shards int
	// Weight is the peer's relative share.
	Weight float64
	// LeaseDuration is how long the peer's Lease stays valid after it last
	// changed.
	LeaseDuration time.Duration
	// FleetAddress is host:port of the peer's fleet API; "" when it
	// advertises none (or an invalid one, which is ignored).
	FleetAddress string
	// Leaving is set while the peer is stopping (LeavingAnnotation).
	Leaving bool
	// Ready are the shards the peer announced ready to take
	// (ReadyAnnotation), sorted.
	Ready []int
}

// ParsePeer validates a peer Lease. Garbage (a name that does not match the
// holder, S or weight that do not parse or are out of range, no lease
// duration) is an error: such a Lease is ignored, never trusted.
func ParsePeer(l *coordinationv1.Lease) (Peer, error) {
	if l.Labels[RoleLabel] != RolePeer {
		return Peer{}, fmt.Errorf("lease %s is not a peer lease", l.Name)
	}
	id := ""
	if l.Spec.HolderIdentity != nil {
		id = *l.Spec.HolderIdentity
	}
	if id == "" || l.Name != PeerLeaseName(id) {
		return Peer{}, fmt.Errorf("peer lease %s: holder %q does not match its name", l.Name, id)
	}
	shards, err := strconv.Atoi(l.Annotations[ShardsAnnotation])
	if err != nil || shards < 1 || shards > MaxShards {
		return Peer{}, fmt.Errorf("peer lease %s: %s=%q is not a shard count in 1..%d", l.Name, ShardsAnnotation, l.Annotations[ShardsAnnotation], MaxShards)
	}
	weight := 1.0
	if w, ok := l.Annotations[WeightAnnotation]; ok {
		weight, err = strconv.ParseFloat(w, 64)
		if err != nil || math.IsNaN(weight) || weight <= 0 || weight > MaxWeight {
			return Peer{}, fmt.Errorf("peer lease %s: %s=%q is not a weight in (0, %d]", l.Name, WeightAnnotation, w, MaxWeight)
		}
	}
	d, err := DurationOf(l)
	if err != nil {
		return Peer{}, err
	}
	ready, err := ParseShardList(l.Annotations[ReadyAnnotation], shards)
	if err != nil {
		return Peer{}, fmt.Errorf("peer lease %s: %s: %w", l.Name, ReadyAnnotation, err)
	}
	return Peer{ID: id, Shards: shards, Weight: weight, LeaseDuration: d, FleetAddress: fleetAddress(l.Annotations[FleetAddressAnnotation]),
		Leaving: l.Annotations[LeavingAnnotation] == "true", Ready: ready}, nil
}

// FormatShardList writes sorted shards as ParseShardList reads them.
func FormatShardList(shards []int) string {
	parts := make([]string, len(shards))
	for i, k := range shards {
		parts[i] = strconv.Itoa(k)
	}
	return strings.Join(parts, ",")
}

// ParseShardList reads a comma-separated list of distinct shards in
// 0..shards-1 ("" is none), sorted.
func ParseShardList(s string, shards int) ([]int, error) {
	if s == "" {
		return nil, nil
	}
	parts := strings.Split(s, ",")
	if len(parts) > shards {
		return nil, fmt.Errorf("%d shards listed, more than the %d there are", len(parts), shards)
	}
	seen := make(map[int]bool, len(parts))
	out := make([]int, 0, len(parts))
	for _, p := range parts {
		k, err := strconv.Atoi(p)
		if err != nil || k < 0 || k >= shards || strconv.Itoa(k) != p || seen[k] {
			return nil, fmt.Errorf("%q is not a distinct shard in 0..%d", p, shards-1)
		}
		seen[k] = true
		out = append(out, k)
	}
	slices.Sort(out)
	return out, nil
}

// fleetAddress is a valid host:port, else "".
func fleetAddress(s string) string {
	host, port, err := net.SplitHostPort(s)
	if err != nil || host == "" || len(s) > 253 {
		return ""
	}
	if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		return ""
	}
	return s
}

// DurationOf is the Lease's duration; an error when it is missing or out
// of range.
func DurationOf(l *coordinationv1.Lease) (time.Duration, error) {
	if l.Spec.LeaseDurationSeconds == nil || *l.Spec.LeaseDurationSeconds < 1 || *l.Spec.LeaseDurationSeconds > MaxLeaseSeconds {
		return 0, fmt.Errorf("lease %s: leaseDurationSeconds missing or outside 1..%d", l.Name, MaxLeaseSeconds)
	}
	return time.Duration(*l.Spec.LeaseDurationSeconds) * time.Second, nil
}

// ParseShardLeaseName returns the shard of a fence Lease name.
func ParseShardLeaseName(name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, ShardLeasePrefix)
	if !ok {
		return 0, false
	}
	k, err := strconv.Atoi(rest)
	if err != nil || k < 0 || strconv.Itoa(k) != rest {
		return 0, false
	}
	return k, true
}

// Holder is the Lease's holder identity, "" when none.
func Holder(l *coordinationv1.Lease) string {
	if l == nil || l.Spec.HolderIdentity == nil {
		return ""
	}
	return *l.Spec.HolderIdentity
}
