package shardlease

import (
	"context"
	"sort"
	"strconv"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// ShardRow is one shard as its fence Lease shows it.
type ShardRow struct {
	// Shard is the shard number.
	Shard int
	// Replica is the holder of the fence; "" when nobody holds it.
	Replica string
	// Keys is the owner's count of the shard's keys; -1 when unknown.
	Keys int
	// Transitions counts how often the fence changed hands.
	Transitions int32
}

// Table is the shard -> replica -> keys view of a hub namespace.
type Table struct {
	// Shards is S as the peers advertise it (0 when no peer is valid).
	Shards int
	// Peers are the valid peer Leases' identities, sorted.
	Peers []string
	// Rows has one entry per shard 0..S-1 (and per extra fence Lease
	// found beyond S), sorted by shard.
	Rows []ShardRow
	// Leaving are the peers stopping gracefully (LeavingAnnotation).
	Leaving map[string]bool
	// Ready are, per peer, the shards it announced ready to take
	// (ReadyAnnotation): with a member spread, a holder hands them over.
	Ready map[string][]int
}

// ReadTable reads the peer and fence Leases of namespace. It reports what
// the Leases say; it does not judge whether a holder is still alive.
func ReadTable(ctx context.Context, c kubernetes.Interface, namespace string) (Table, error) {
	list, err := c.CoordinationV1().Leases(namespace).List(ctx, metav1.ListOptions{
		LabelSelector: RoleLabel, // exists
	})
	if err != nil {
		return Table{}, err
	}
	t := Table{Leaving: map[string]bool{}, Ready: map[string][]int{}}
	rows := map[int]ShardRow{}
	for i := range list.Items {
		l := &list.Items[i]
		switch l.Labels[RoleLabel] {
		case RolePeer:
			if p, err := ParsePeer(l); err == nil {
				t.Peers = append(t.Peers, p.ID)
				t.Shards = max(t.Shards, p.Shards)
				if p.Leaving {
					t.Leaving[p.ID] = true
				}
				if len(p.Ready) > 0 {
					t.Ready[p.ID] = p.Ready
				}
			}
		case RoleShard:
			k, ok := ParseShardLeaseName(l.Name)
			if !ok {
				continue
			}
			row := ShardRow{Shard: k, Replica: Holder(l), Keys: -1}
			if n, err := strconv.Atoi(l.Annotations[KeysAnnotation]); err == nil && n >= 0 {
				row.Keys = n
			}
			if l.Spec.LeaseTransitions != nil {
				row.Transitions = *l.Spec.LeaseTransitions
			}
			rows[k] = row
		}
	}
	for k := range t.Shards {
		if _, ok := rows[k]; !ok {
			rows[k] = ShardRow{Shard: k, Keys: -1}
		}
	}
	for _, r := range rows {
		t.Rows = append(t.Rows, r)
	}
	sort.Slice(t.Rows, func(i, j int) bool { return t.Rows[i].Shard < t.Rows[j].Shard })
	sort.Strings(t.Peers)
	return t, nil
}

// ReplicaRow sums a Table per replica.
type ReplicaRow struct {
	// Replica is the identity; "" collects unheld shards.
	Replica string
	// Shards is the number of fences the replica holds.
	Shards int
	// Keys sums the known key counts of those shards.
	Keys int
	// Leaving is set while the replica stops gracefully, handing its
	// shards to ready successors.
	Leaving bool
	// Ready are the shards the replica announced ready to take.
	Ready []int
}

// ByReplica sums the table per replica, sorted by identity.
func (t Table) ByReplica() []ReplicaRow {
	sums := map[string]*ReplicaRow{}
	for _, p := range t.Peers {
		sums[p] = &ReplicaRow{Replica: p}
	}
	for _, r := range t.Rows {
		s := sums[r.Replica]
		if s == nil {
			s = &ReplicaRow{Replica: r.Replica}
			sums[r.Replica] = s
		}
		s.Shards++
		if r.Keys > 0 {
			s.Keys += r.Keys
		}
	}
	out := make([]ReplicaRow, 0, len(sums))
	for id, s := range sums {
		s.Leaving, s.Ready = t.Leaving[id], t.Ready[id]
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Replica < out[j].Replica })
	return out
}
