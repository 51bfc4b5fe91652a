package sharding

import (
	"slices"
	"time"

	"github.com/flink-hub/flink-hub/internal/sharding/shardlease"
)

// The successor handshake (member spread with Options.ReadyFor): a shard
// whose members its next owner has not engaged yet is not released to it
// until it is ready.
//
// With a member spread a replica connects only to the members it serves;
// taking a shard of a member it did not serve means connecting, claiming
// and filling caches first, about 1.5 s in make bench, while the shard's
// keys would have no working owner. So:
//
//   - a replica stopping gracefully first announces it (LeavingAnnotation
//     on its peer Lease) and keeps working: the others assign its shards
//     among themselves, which makes them serve (engage) its members;
//   - every replica announces the shards it is assigned, does not hold,
//     and could reconcile at once (ReadyAnnotation, from ReadyFor);
//   - a holder keeps renewing, and admitting the keys of, a shard no
//     longer assigned to it until the replica assigned it announced it
//     ready, for at most HandoffWait; then it drains and releases it as
//     before.
//
// Invariants: the handshake only delays a release, never an acquisition,
// so the fences keep every key to one owner whatever the announcements
// say. A shard with no live successor (nobody else left) is released at
// once, and a leaving replica ends after HandoffWait whatever happened.

// handshake reports whether the successor handshake is on.
func (e *Elector) handshake() bool {
	return e.opts.Spread > 0 && e.opts.ReadyFor != nil && e.opts.HandoffWait > 0
}

// announcement is what this replica's peer Lease says beyond its identity
// and settings: whether it is leaving and the shards it is ready for.
type announcement struct {
	leaving bool
	ready   string
}

// apply writes the announcement onto a peer Lease being built.
func (a announcement) apply(annotations map[string]string) {
	delete(annotations, shardlease.LeavingAnnotation)
	delete(annotations, shardlease.ReadyAnnotation)
	if a.leaving {
		annotations[shardlease.LeavingAnnotation] = "true"
	}
	if a.ready != "" {
		annotations[shardlease.ReadyAnnotation] = a.ready
	}
}

// announcementLocked is what the peer Lease should say now.
func (e *Elector) announcementLocked() announcement {
	return announcement{leaving: e.leaving, ready: shardlease.FormatShardList(e.ready)}
}

// beginLeaving starts a graceful stop: with the handshake on, the replica
// announces it is leaving and keeps working until its shards are taken
// (Run's loop ends it); without, it stops admitting reconciles at once.
// It reports whether the replica is leaving.
func (e *Elector) beginLeaving() bool {
	e.mu.Lock()
	leave := e.handshake() && !e.stopping
	if leave && !e.leaving {
		e.leaving = true
		e.opts.Log.Info("leaving: handing shards to ready successors", "wait", e.opts.HandoffWait)
	}
	e.mu.Unlock()
	if !leave {
		e.beginStop()
		return false
	}
	e.poke()
	return true
}

// stopWaiting ends a leaving replica's wait for its successors: the fences
// it still keeps for one are counted and logged as handed off unannounced
// (shutdown drains and releases them next).
func (e *Elector) stopWaiting() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for k, f := range e.fences {
		if !f.draining {
			e.successorTimedOut(k, "wait", e.opts.HandoffWait)
		}
	}
}

// leftAll reports whether a leaving replica holds no fence any more.
func (e *Elector) leftAll() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.leaving && len(e.fences) == 0
}

// keepForSuccessorLocked reports whether fence f, no longer assigned to
// this replica, is kept (renewed, its keys admitted) because its
// successor in assignment has not announced it ready and HandoffWait has
// not passed since it was unassigned.
func (e *Elector) keepForSuccessorLocked(f *fence, assignment Assignment, peers []shardlease.Peer, now time.Time) bool {
	if !e.handshake() {
		return false
	}
	if f.unassignedSince.IsZero() {
		f.unassignedSince = now
	}
	if f.shard >= len(assignment) {
		return false
	}
	next := assignment[f.shard]
	i := slices.IndexFunc(peers, func(p shardlease.Peer) bool { return p.ID == next })
	if next == "" || next == e.id || i < 0 || slices.Contains(peers[i].Ready, f.shard) {
		return false
	}
	if waited := now.Sub(f.unassignedSince); waited >= e.opts.HandoffWait {
		e.successorTimedOut(f.shard, "successor", next, "waited", waited)
		return false
	}
	return true
}

// successorTimedOut counts and logs a shard handed off before its
// successor announced it ready: not silent, the successor will engage its
// members late.
func (e *Elector) successorTimedOut(shard int, keysAndValues ...any) {
	successorTimeouts.Inc()
	e.opts.Log.Info("successor did not announce the shard ready within the handoff wait; handing it off anyway",
		append([]any{"shard", shard}, keysAndValues...)...)
}

// updateReady asks ReadyFor which assigned shards not held yet this
// replica could take at once; the next peer Lease write announces them.
func (e *Elector) updateReady(assigned map[int]bool) {
	if !e.handshake() {
		return
	}
	e.mu.Lock()
	var pending []int
	for k := range assigned {
		if e.fences[k] == nil {
			pending = append(pending, k)
		}
	}
	e.mu.Unlock()
	var ready []int
	if len(pending) > 0 {
		for _, k := range e.opts.ReadyFor(pending) {
			if assigned[k] && !slices.Contains(ready, k) {
				ready = append(ready, k)
			}
		}
	}
	slices.Sort(ready)
	e.mu.Lock()
	e.ready = ready
	e.mu.Unlock()
}

// ReadinessChanged tells the election that ReadyFor's answer may have
// changed (a member was engaged), so it looks again now rather than at
// the next retry period.
func (e *Elector) ReadinessChanged() { e.poke() }
